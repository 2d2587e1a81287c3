// AWS ECR provider. Pending its provider issue: serves no host yet.

import { ProviderError, type Provider } from "../provider.ts";

export const provider: Provider<null> = {
  name: "ecr-login",
  title: "AWS ECR",
  match: () => null,
  identity: () => "default",
  fetch: async () => {
    throw new ProviderError("AWS ECR: not available in this build");
  },
};
