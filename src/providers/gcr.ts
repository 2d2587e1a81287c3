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

const TITLE = "Google Artifact Registry / GCR";
// Artifact Registry checks the username; this is the documented one.
export const GCR_USERNAME = "oauth2accesstoken";

function settingsOf(target: Target<GcrHost>, ctx: Context): GcrSettings {
  return parseGcrSettings(target.settings, target.host.key, ctx.config.path);
}

export const provider: Provider<GcrHost> = {
  name: "gcr",
  title: TITLE,
  match: matchGoogleRegistry,
  identity(target, ctx) {
    const settings = settingsOf(target, ctx);
    return describeIdentity(findCredentialSource(ctx.env, settings), settings, ctx.env);
  },
  async fetch(target, ctx) {
    const settings = settingsOf(target, ctx);
    const source = findCredentialSource(ctx.env, settings);
    const { fetchAccessToken } = await import("./gcr/token.ts");
    try {
      const { token, expiresAt } = await fetchAccessToken(source, settings, ctx);
      ctx.log.secret(token);
      return { username: GCR_USERNAME, secret: token, expiresAt };
    } catch (err) {
      if (err instanceof ProviderError) throw new ProviderError(`${TITLE}: ${err.message}`);
      throw err;
    }
  },
  // GKE's metadata server can hand out tokens close to their expiry; a larger
  // margin made upstream fail there (docker-credential-gcr #182).
  minRemainingMs: 10_000,
  settingsKeys: GCR_SETTINGS_KEYS,
  defaultRegistries: DEFAULT_GCR_REGISTRIES,
  kubeletMatchImages: KUBELET_MATCH_IMAGES,
  subcommands: {
    "configure-docker": async () => {
      const { configureDockerCommand } = await import("../commands/configure-docker.ts");
      return configureDockerCommand({ optionalRegistries: { "include-artifact-registry": ARTIFACT_REGISTRY_HOSTS } });
    },
  },
};
