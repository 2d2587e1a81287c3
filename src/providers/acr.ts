// Azure Container Registry provider: an Entra ID token exchanged at the
// registry for an ACR refresh token (docs/providers/acr.md). This module stays
// light for the cache-hit path: host patterns and the identity plan only; the
// exchange, @azure/identity and doctor's checks load on demand.

import type { Provider } from "../provider.ts";
import { KUBELET_MATCH_IMAGES, matchLoginServer, type AcrLoginServer } from "./acr/hosts.ts";
import { planAcr, type AcrPlan } from "./acr/plan.ts";
import { ACR_HELP_TEXT, ANNOTATION_CLIENT_ID, ANNOTATION_TENANT_ID, SERVICE_ACCOUNT_AUDIENCE, SETTINGS_KEYS } from "./acr/settings.ts";



export const provider: Provider<AcrLoginServer, AcrPlan> = {
  manifest: {
    name: "acr",
    title: "Azure Container Registry",
    settingsKeys: SETTINGS_KEYS,
    helpText: ACR_HELP_TEXT,
    defaultRegistries: [],
    kubeletMatchImages: KUBELET_MATCH_IMAGES,
    serviceAccountTokens: {
      audience: SERVICE_ACCOUNT_AUDIENCE,
      requiredAnnotationKeys: [ANNOTATION_CLIENT_ID, ANNOTATION_TENANT_ID],
    },
    tokenUser: "00000000-0000-0000-0000-000000000000",
    tokenMaxLifeMs: 3 * 3600_000,
  },
  match: matchLoginServer,
  plan: planAcr,
  async fetch(target, plan, ctx) {
    const { fetchAcrCredential } = await import("./acr/fetch.ts");
    return fetchAcrCredential(target, plan, ctx);
  },
  async describe(_target, plan, ctx) {
    const { describeAcrIdentity } = await import("./acr/describe.ts");
    return describeAcrIdentity(plan, ctx);
  },
};
