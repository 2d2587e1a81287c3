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
import { GCR_HELP_TEXT, GCR_SETTINGS_KEYS } from "./gcr/settings.ts";
import { ENABLE_WI_IMAGE_PULL_ANNOTATION, KUBELET_TOKEN_AUDIENCE, WORKLOAD_ENV } from "./gcr/workload.ts";

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
      // kubelet runs the plugin outside any pod: tell it the cluster's identity
      // provider and pool (cluster-specific: <placeholders> until given).
      env: {
        [WORKLOAD_ENV.identityProvider]:
          "<https://container.googleapis.com/v1/projects/PROJECT_ID/locations/LOCATION/clusters/CLUSTER>",
        [WORKLOAD_ENV.workloadPool]: "<PROJECT_ID>.svc.id.goog",
      },
      optionalAnnotationKeys: [ENABLE_WI_IMAGE_PULL_ANNOTATION],
      flags: [
        {
          flag: "--gcr-identity-provider",
          env: WORKLOAD_ENV.identityProvider,
          check: /^https:\/\/\S+$/,
          example: "https://container.googleapis.com/v1/projects/<project>/locations/<location>/clusters/<cluster>",
        },
        {
          flag: "--gcr-workload-pool",
          env: WORKLOAD_ENV.workloadPool,
          check: /^[a-z0-9.:-]+\.svc\.id\.goog$/,
          example: "<project>.svc.id.goog",
          audience: true,
        },
      ],
    },
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
