// Google Container Registry and Artifact Registry. This module stays light
// (patterns, settings, a cheap look at which identity applies); the token
// request and google-auth-library load inside fetch. See docs/providers/gcr.md.

import type { Provider } from "../provider.ts";
import {
  ARTIFACT_REGISTRY_HOSTS,
  DEFAULT_GCR_REGISTRIES,
  KUBELET_MATCH_IMAGES,
  matchGoogleRegistry,
  type GcrHost,
} from "./gcr/hosts.ts";
import { planGcr, type GcrPlan } from "./gcr/plan.ts";
import { GCR_SETTINGS_KEYS } from "./gcr/settings.ts";
import { GCR_HELP_TEXT } from "./gcr/help.ts";
import { ENABLE_WI_IMAGE_PULL_ANNOTATION, KUBELET_TOKEN_AUDIENCE } from "./gcr/workload.ts";

// Artifact Registry checks the username; this is the documented one.
export const GCR_USERNAME = "oauth2accesstoken";

export const provider: Provider<GcrHost, GcrPlan> = {
  manifest: {
    name: "gcr",
    title: "Google Artifact Registry / GCR",
    settingsKeys: GCR_SETTINGS_KEYS,
    helpText: GCR_HELP_TEXT,
    defaultRegistries: DEFAULT_GCR_REGISTRIES,
    optionalRegistries: { "include-artifact-registry": ARTIFACT_REGISTRY_HOSTS },
    kubeletMatchImages: KUBELET_MATCH_IMAGES,
    // kubelet passes only the annotations named here; the opt-in is optional so
    // that pods without it keep pulling with the node's identity, as upstream.
    serviceAccountTokens: {
      audience: KUBELET_TOKEN_AUDIENCE,
      optionalAnnotationKeys: [ENABLE_WI_IMAGE_PULL_ANNOTATION],
    },
    // GKE's metadata server can hand out tokens close to their expiry; a larger
    // margin made upstream fail there.
    minRemainingMs: 10_000,
    tokenUser: GCR_USERNAME,
    tokenMaxLifeMs: 3600_000,
  },
  match: matchGoogleRegistry,
  plan: planGcr,
  async fetch(_target, plan, ctx) {
    const { fetchGcr } = await import("./gcr/fetch.ts");
    const got = await fetchGcr(plan, ctx);
    ctx.log.secret(got.token);
    return { username: GCR_USERNAME, secret: got.token, expiresAt: got.expiresAt };
  },
  async describe(_target, plan, ctx) {
    const { reportIdentity } = await import("./gcr/describe.ts");
    return reportIdentity(plan, ctx);
  },
};
