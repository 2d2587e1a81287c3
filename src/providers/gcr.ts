// Google Container Registry and Artifact Registry. This module stays light
// (patterns, settings, a cheap look at which identity applies); the token
// request and google-auth-library load inside fetch.

import { ProviderError, type Context, type Provider, type Target } from "../provider.ts";
import { describeIdentity, findCredentialSource } from "./gcr/adc.ts";
import {
  ARTIFACT_REGISTRY_HOSTS,
  DEFAULT_GCR_REGISTRIES,
  KUBELET_MATCH_IMAGES,
  matchGoogleRegistry,
  type GcrHost,
} from "./gcr/hosts.ts";
import { GCR_SETTINGS_KEYS, parseGcrSettings, type GcrSettings } from "./gcr/settings.ts";
import { GCR_HELP_TEXT } from "./gcr/help.ts";
import { ENABLE_WI_IMAGE_PULL_ANNOTATION, KUBELET_TOKEN_AUDIENCE, podOptedIn, workloadConfig } from "./gcr/workload.ts";

const TITLE = "Google Artifact Registry / GCR";
// Artifact Registry checks the username; this is the documented one.
export const GCR_USERNAME = "oauth2accesstoken";

function settingsOf(target: Target<GcrHost>, ctx: Context): GcrSettings {
  return parseGcrSettings(target.settings, target.host.key, ctx.config.path);
}

/**
 * The pod's own identity when kubelet sent its service account token and the
 * service account opted in (upstream's rule); otherwise Application Default
 * Credentials, i.e. the node's identity, as upstream falls back to the node's
 * service account for pods that did not opt in.
 */
async function fetchToken(target: Target<GcrHost>, ctx: Context): Promise<{ token: string; expiresAt: Date }> {
  const sa = ctx.serviceAccount;
  if (podOptedIn(sa)) {
    const wi = workloadConfig(ctx.env);
    // Opted in but not configured: fail rather than hand the pod the node's identity.
    if (!wi.ok) throw new ProviderError(wi.reason);
    const { exchangePodToken } = await import("./gcr/sts.ts");
    ctx.log.debug(`exchanging the pod's service account token at ${wi.stsEndpoint} (audience ${wi.audience})`);
    return exchangePodToken({ subjectToken: sa.token, audience: wi.audience, endpoint: wi.stsEndpoint }, ctx);
  }
  if (sa) ctx.log.debug(`the service account has no ${ENABLE_WI_IMAGE_PULL_ANNOTATION}: "true"; using the node's identity`);
  const settings = settingsOf(target, ctx);
  const source = findCredentialSource(ctx.env, settings);
  const { fetchAccessToken } = await import("./gcr/token.ts");
  return fetchAccessToken(source, settings, ctx);
}

export const provider: Provider<GcrHost> = {
  name: "gcr",
  title: TITLE,
  match: matchGoogleRegistry,
  identity(target, ctx) {
    // A pod that opted in pulls as itself: the resolver adds who the pod is;
    // the audience says which pool it was exchanged at.
    if (podOptedIn(ctx.serviceAccount)) {
      const wi = workloadConfig(ctx.env);
      return wi.ok ? `wi:${wi.audience}` : "wi:unconfigured";
    }
    const settings = settingsOf(target, ctx);
    return describeIdentity(findCredentialSource(ctx.env, settings), settings, ctx.env);
  },
  // Pods that did not opt in get the node's token: share the node's cache entry.
  usesServiceAccount: (_target, ctx) => podOptedIn(ctx.serviceAccount),
  async fetch(target, ctx) {
    try {
      const { token, expiresAt } = await fetchToken(target, ctx);
      ctx.log.secret(token);
      return { username: GCR_USERNAME, secret: token, expiresAt };
    } catch (err) {
      if (err instanceof ProviderError) throw new ProviderError(`${TITLE}: ${err.message}`, { recurForMs: err.recurForMs });
      throw err;
    }
  },
  // GKE's metadata server can hand out tokens close to their expiry; a larger
  // margin made upstream fail there (docker-credential-gcr #182).
  minRemainingMs: 10_000,
  tokenUser: GCR_USERNAME,
  tokenMaxLifeMs: 3600_000, // OAuth 2.0 access tokens: 1 h
  settingsKeys: GCR_SETTINGS_KEYS,
  // kubelet passes only the annotations named here; the opt-in is optional so
  // that pods without it keep pulling with the node's identity, as upstream.
  serviceAccountTokens: {
    audience: KUBELET_TOKEN_AUDIENCE,
    optionalAnnotationKeys: [ENABLE_WI_IMAGE_PULL_ANNOTATION],
  },
  async describeIdentity(target, ctx) {
    const { reportIdentity } = await import("./gcr/doctor.ts");
    return reportIdentity(settingsOf(target, ctx), ctx);
  },
  helpText: GCR_HELP_TEXT,
  defaultRegistries: DEFAULT_GCR_REGISTRIES,
  kubeletMatchImages: KUBELET_MATCH_IMAGES,
  subcommands: {
    "configure-docker": async () => {
      const { configureDockerCommand } = await import("../commands/configure-docker.ts");
      return configureDockerCommand({ optionalRegistries: { "include-artifact-registry": ARTIFACT_REGISTRY_HOSTS } });
    },
  },
};
