// The network half of the OCIR provider, imported lazily by ../oci.ts so that
// a cache hit never loads oci-common.

import { ProviderError, type Context, type Credential, type Target } from "../../provider.ts";
import { buildAuth } from "./auth.ts";
import { quietConsole } from "./deadline.ts";
import type { OcirHost } from "./hosts.ts";
import { choosePlan, describePlan, planTitle } from "./identity.ts";
import { readSettings, TITLE } from "./settings.ts";
import { requestToken, TOKEN_PATH } from "./token.ts";

export async function fetchCredential(target: Target<OcirHost>, ctx: Context): Promise<Credential> {
  // Refuse rather than silently sign a pod's request with the node's identity.
  if (ctx.serviceAccount) {
    throw new ProviderError(
      `${TITLE}: the kubelet service-account-token mode is not supported for OCIR yet; use the node's identity`,
    );
  }
  const settings = readSettings(target.settings, ctx.env);
  const plan = choosePlan(settings, ctx.env);
  // The token service of the registry the host stands for (the alias), unless overridden.
  const base = settings.tokenEndpoint ?? `https://${target.registry}`;
  const url = base + TOKEN_PATH;
  ctx.log.debug(`${target.host.key}: asking ${url} for a token, signed as ${describePlan(plan, ctx.env)}`);
  const common = await import("oci-common");
  return quietConsole(ctx, async () => {
    const auth = await buildAuth(common, plan, ctx);
    return requestToken(common, auth, { url, registry: target.registry, who: planTitle(plan) }, ctx);
  });
}
