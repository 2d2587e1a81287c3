// kaniko's `docker-credential-acr-env`: a Docker credential helper for ACR
// whose identity comes from the environment (AZURE_CLIENT_ID,
// AZURE_CLIENT_SECRET, AZURE_TENANT_ID, or workload identity's
// AZURE_FEDERATED_TOKEN_FILE), which is where the ACR provider looks first.

import type { UpstreamLaunch } from "./launch.ts";

export function translate(args: readonly string[], env: UpstreamLaunch["env"]): UpstreamLaunch | string {
  return { provider: "acr", args: [...args], env };
}
