// The network half of the OCIR provider, imported lazily by ../oci.ts so that
// a cache hit never loads oci-common.

import { type Context, type Credential, type Target } from "../../provider.ts";
import type { OciPlan } from "./plan.ts";
import { buildAuth } from "./auth.ts";
import { okeSessionAuth } from "./oke.ts";
import { quietConsole } from "./deadline.ts";
import type { OcirHost } from "./hosts.ts";
import { planTitle } from "./plan.ts";
import { requestToken, TOKEN_PATH } from "./registry-token.ts";
import { withCappedGlobalFetch } from "../../body.ts";

export async function fetchCredential(target: Target<OcirHost>, plan: OciPlan, ctx: Context): Promise<Credential> {
  const { settings } = plan;
  // The token service of the registry the host stands for (the alias), unless overridden.
  const base = settings.tokenEndpoint ?? `https://${target.registry}`;
  const url = base + TOKEN_PATH;
  // kubelet service-account mode: the pod's own OKE workload identity, never the node's.
  const pod = ctx.serviceAccount;
  if (plan.kind === "pod" && pod) {
    ctx.log.debug(`${target.host.key}: asking ${url} for a token, signed as the pod's OKE workload identity`);
    const common = await import("oci-common");
    return quietConsole(ctx, () => withCappedGlobalFetch(async () => {
      const auth = await okeSessionAuth({ saToken: () => pod.token, whose: "the pod's service account token" }, ctx);
      return requestToken(common, auth, { url, registry: target.registry, who: "the pod's OKE workload identity" }, ctx);
    }));
  }
  if (plan.kind !== "node") throw new Error("the pod's identity was planned without a service account token");
  const node = plan.node;
  ctx.log.debug(`${target.host.key}: asking ${url} for a token, signed as ${plan.source}`);
  const common = await import("oci-common");
  // oci-common reads its answers (certificates, federation, metadata) with the global fetch: capped here.
  return quietConsole(ctx, () => withCappedGlobalFetch(async () => {
    const auth = await buildAuth(common, node, ctx);
    return requestToken(common, auth, { url, registry: target.registry, who: planTitle(node) }, ctx);
  }));
}
