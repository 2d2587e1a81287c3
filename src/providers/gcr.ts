// Google Container Registry and Artifact Registry. This module stays light
// (patterns, settings, a cheap look at which identity applies); the token
// request and google-auth-library load inside fetch. See docs/providers/gcr.md.

import { ProviderError, type Plan, type Provider } from "../provider.ts";
import { describeIdentity, findCredentialSource, type CredentialSource } from "./gcr/adc.ts";
import {
  ARTIFACT_REGISTRY_HOSTS,
  DEFAULT_GCR_REGISTRIES,
  KUBELET_MATCH_IMAGES,
  matchGoogleRegistry,
  type GcrHost,
} from "./gcr/hosts.ts";
import { GCR_SETTINGS_KEYS, parseGcrSettings, type GcrSettings } from "./gcr/settings.ts";
import { GCR_HELP_TEXT } from "./gcr/help.ts";
import { ENABLE_WI_IMAGE_PULL_ANNOTATION, KUBELET_TOKEN_AUDIENCE, podOptedIn, workloadConfig, type WorkloadConfig } from "./gcr/workload.ts";

// Artifact Registry checks the username; this is the documented one.
export const GCR_USERNAME = "oauth2accesstoken";

/**
 * The pod's own identity when kubelet sent its service account token and the
 * service account opted in (upstream's rule); otherwise Application Default
 * Credentials, i.e. the node's identity, as upstream falls back to the node's
 * service account for pods that did not opt in.
 */
export type GcrPlan = Plan &
  ({ kind: "pod"; workload: WorkloadConfig } | { kind: "node"; credential: CredentialSource; settings: GcrSettings });

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
  plan(target, ctx) {
    if (podOptedIn(ctx.serviceAccount)) {
      // A pod that opted in pulls as itself: the resolver adds who the pod is;
      // the audience says which pool it was exchanged at.
      const workload = workloadConfig(ctx.env);
      return {
        kind: "pod",
        workload,
        pod: true,
        key: workload.ok ? `wi:${workload.audience}` : "wi:unconfigured",
        source: workload.ok
          ? `the pod's service account token exchanged at ${workload.stsEndpoint} (audience ${workload.audience})`
          : "the pod's service account token (workload identity not configured)",
      };
    }
    // Pods that did not opt in get the node's token: they share the node's cache entry.
    const settings = parseGcrSettings(target.settings, target.host.key, ctx.config.path);
    const credential = findCredentialSource(ctx.env, settings);
    const key = describeIdentity(credential, settings, ctx.env);
    return { kind: "node", credential, settings, pod: false, key, source: key };
  },
  async fetch(_target, plan, ctx) {
    let got: { token: string; expiresAt: Date };
    if (plan.kind === "pod") {
      // Opted in but not configured: fail rather than hand the pod the node's identity.
      if (!plan.workload.ok) throw new ProviderError(plan.workload.reason);
      const { exchangePodToken } = await import("./gcr/sts.ts");
      const { audience, stsEndpoint } = plan.workload;
      ctx.log.debug(`exchanging the pod's service account token at ${stsEndpoint} (audience ${audience})`);
      got = await exchangePodToken({ subjectToken: ctx.serviceAccount!.token, audience, endpoint: stsEndpoint }, ctx);
    } else {
      if (ctx.serviceAccount) ctx.log.debug(`the service account has no ${ENABLE_WI_IMAGE_PULL_ANNOTATION}: "true"; using the node's identity`);
      const { fetchAccessToken } = await import("./gcr/token.ts");
      got = await fetchAccessToken(plan.credential, plan.settings, ctx);
    }
    ctx.log.secret(got.token);
    return { username: GCR_USERNAME, secret: got.token, expiresAt: got.expiresAt };
  },
  async describe(target, _plan, ctx) {
    const { reportIdentity } = await import("./gcr/doctor.ts");
    return reportIdentity(parseGcrSettings(target.settings, target.host.key, ctx.config.path), ctx);
  },
};
