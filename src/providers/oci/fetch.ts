// The network half of the OCIR provider, imported lazily by ../oci.ts so that
// a cache hit never loads oci-common.

import { type Context, type Credential, type Target } from "../../provider.ts";
import { buildAuth } from "./auth.ts";
import { okeSessionAuth } from "./oke.ts";
import { quietConsole } from "./deadline.ts";
import type { OcirHost } from "./hosts.ts";
import { choosePlan, describePlan, planTitle } from "./identity.ts";
import { readSettings } from "./settings.ts";
import { requestToken, TOKEN_PATH } from "./token.ts";

export async function fetchCredential(target: Target<OcirHost>, ctx: Context): Promise<Credential> {
  const settings = readSettings(target.settings, ctx.env);
  // The token service of the registry the host stands for (the alias), unless overridden.
  const base = settings.tokenEndpoint ?? `https://${target.registry}`;
  const url = base + TOKEN_PATH;
  // kubelet service-account mode: the pod's own OKE workload identity, never the node's.
  const pod = ctx.serviceAccount;
  if (pod) {
    ctx.log.debug(`${target.host.key}: asking ${url} for a token, signed as the pod's OKE workload identity`);
    const common = await import("oci-common");
    return quietConsole(ctx, async () => {
      const auth = await okeSessionAuth({ saToken: () => pod.token, whose: "the pod's service account token" }, ctx);
      return requestToken(common, auth, { url, registry: target.registry, who: "the pod's OKE workload identity" }, ctx);
    });
  }
  const plan = choosePlan(settings, ctx.env);
  ctx.log.debug(`${target.host.key}: asking ${url} for a token, signed as ${describePlan(plan, ctx.env)}`);
  const common = await import("oci-common");
  return quietConsole(ctx, async () => {
    const auth = await buildAuth(common, plan, ctx);
    return requestToken(common, auth, { url, registry: target.registry, who: planTitle(plan) }, ctx);
  });
}
