// Oracle Cloud Infrastructure Registry provider. Pending its provider issue: serves no host yet.

import { ProviderError, type Provider } from "../provider.ts";

export const provider: Provider<null> = {
  name: "oci",
  title: "Oracle Cloud Infrastructure Registry",
  match: () => null,
  identity: () => "default",
  fetch: async () => {
    throw new ProviderError("Oracle Cloud Infrastructure Registry: not available in this build");
  },
};
