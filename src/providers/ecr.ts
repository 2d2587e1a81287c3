// AWS ECR and ECR Public (docker-credential-ecr-login). This module stays
// light: host patterns and identity naming only. The SDK is loaded by
// ./ecr/fetch.ts, imported on a cache miss.

import { join } from "node:path";
import { parseBoolean, type Context, type Provider } from "../provider.ts";
import { kubeletGlobs, matchEcrHost, type EcrTarget } from "./ecr/hosts.ts";
import { callerIdentity, readSettings } from "./ecr/identity.ts";

export const provider: Provider<EcrTarget> = {
  name: "ecr-login",
  title: "AWS ECR",
  match: matchEcrHost,
  identity: (target, ctx) => callerIdentity(readSettings(target.settings, target.registry), ctx).key,
  fetch: async (target, ctx) => (await import("./ecr/fetch.ts")).fetchEcrCredential(target, ctx),
  // ECR Public pulls work anonymously: a failure should let the client go on without credentials.
  notFoundOnFailure: (target) => target.details.kind === "public",
  // The upstream helper's variables, with booleans parsed sanely ("false" means false).
  cacheOverrides: (env) => ({ dir: expandHome(env.AWS_ECR_CACHE_DIR, env), disabled: parseBoolean(env.AWS_ECR_DISABLE_CACHE) }),
  ignoreStore: (env) => parseBoolean(env.AWS_ECR_IGNORE_CREDS_STORAGE),
  settingsKeys: ["profile", "roleArn"],
  // Private registries are per account; ECR Public works anonymously, and a
  // credHelpers entry would make every `docker build` ask for it.
  defaultRegistries: [],
  kubeletMatchImages: kubeletGlobs(),
};

/** Upstream expands a leading `~` in AWS_ECR_CACHE_DIR. */
function expandHome(dir: string | undefined, env: Context["env"]): string | undefined {
  if (!dir) return undefined;
  if ((dir === "~" || dir.startsWith("~/")) && env.HOME) return join(env.HOME, dir.slice(1));
  return dir;
}
