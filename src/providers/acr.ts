// Azure Container Registry provider: an Entra ID token exchanged at the
// registry for an ACR refresh token (REFERENCE.md §4). This module stays light
// for the cache-hit path: host patterns and the identity plan only; the
// exchange and @azure/identity load inside `fetch`.

import type { Provider } from "../provider.ts";
import { KUBELET_MATCH_IMAGES, matchLoginServer, type AcrLoginServer } from "./acr/hosts.ts";
import { identityKey, planIdentity } from "./acr/identity.ts";
import { readAcrSettings, SETTINGS_KEYS } from "./acr/settings.ts";

export const provider: Provider<AcrLoginServer> = {
  name: "acr",
  title: "Azure Container Registry",
  match: matchLoginServer,
  identity(target, ctx) {
    const settings = readAcrSettings(target.settings, target.host.key);
    return identityKey(planIdentity(ctx.env, settings, target.details.cloud, ctx.serviceAccount));
  },
  async fetch(target, ctx) {
    const { fetchAcrCredential } = await import("./acr/exchange.ts");
    return fetchAcrCredential(target, ctx);
  },
  settingsKeys: SETTINGS_KEYS,
  kubeletMatchImages: KUBELET_MATCH_IMAGES,
};
