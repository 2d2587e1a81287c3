// Google Container Registry / Artifact Registry provider. Pending its provider issue: serves no host yet.

import { ProviderError, type Provider } from "../provider.ts";

export const provider: Provider<null> = {
  name: "gcr",
  title: "Google Container Registry / Artifact Registry",
  match: () => null,
  identity: () => "default",
  fetch: async () => {
    throw new ProviderError("Google Container Registry / Artifact Registry: not available in this build");
  },
};
