// Azure Container Registry provider. Pending its provider issue: serves no host yet.

import { ProviderError, type Provider } from "../provider.ts";

export const provider: Provider<null> = {
  name: "acr",
  title: "Azure Container Registry",
  match: () => null,
  identity: () => "default",
  fetch: async () => {
    throw new ProviderError("Azure Container Registry: not available in this build");
  },
};
