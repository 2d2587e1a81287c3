// AWS ECR and ECR Public (docker-credential-ecr-login). This module stays
// light: host patterns and identity naming only. The SDK is loaded by
// ./ecr/fetch.ts, imported on a cache miss.

import { join } from "node:path";
import { parseBoolean, type Context, type Provider } from "../provider.ts";
import { kubeletGlobs, matchEcrHost, type EcrTarget } from "./ecr/hosts.ts";
import { ROLE_ANNOTATION, callerIdentity, readSettings } from "./ecr/identity.ts";

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
  tokenUser: "AWS",
  tokenMaxLifeMs: 12 * 3600_000, // GetAuthorizationToken: 12 h
  settingsKeys: ["profile", "roleArn"],
  // Private registries are per account; ECR Public works anonymously, and a
  // credHelpers entry would make every `docker build` ask for it.
  defaultRegistries: [],
  kubeletMatchImages: kubeletGlobs(),
  // The pod's token is exchanged with sts:AssumeRoleWithWebIdentity, whose
  // audience is STS. The role annotation is optional, as EKS configures
  // cloud-provider-aws's ecr-credential-provider: AWS_ECR_ROLE_ARN may give a
  // role for every service account, and one without either gets a clear error.
  serviceAccountTokens: { audience: "sts.amazonaws.com", optionalAnnotationKeys: [ROLE_ANNOTATION] },
  describeIdentity: async (target, ctx) => (await import("./ecr/describe.ts")).describeEcrIdentity(target, ctx),
  helpText: `Settings (configuration file, "registries": { "<host>": { … } }):
  profile                  AWS profile to use for this registry
  roleArn                  IAM role to assume for this registry
  alias                    the ECR host this name stands for (PrivateLink endpoint, custom domain)
Environment:
  AWS_ECR_CACHE_DIR        token cache directory, when CCH_CACHE_DIR is not set
  AWS_ECR_DISABLE_CACHE=true          do not cache tokens
  AWS_ECR_IGNORE_CREDS_STORAGE=true   store and erase succeed and save nothing
  AWS_ECR_ROLE_ARN         kubelet service-account mode: the role for a service account
                           without the ${ROLE_ANNOTATION} annotation
  AWS_PROFILE, AWS_ACCESS_KEY_ID, AWS_WEB_IDENTITY_TOKEN_FILE, …   the AWS SDK's identity sources
  AWS_ENDPOINT_URL_ECR, AWS_ENDPOINT_URL_ECR_PUBLIC, AWS_ENDPOINT_URL_STS   API endpoint overrides
`,
};

/** Upstream expands a leading `~` in AWS_ECR_CACHE_DIR. */
function expandHome(dir: string | undefined, env: Context["env"]): string | undefined {
  if (!dir) return undefined;
  if ((dir === "~" || dir.startsWith("~/")) && env.HOME) return join(env.HOME, dir.slice(1));
  return dir;
}
