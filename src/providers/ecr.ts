// AWS ECR and ECR Public (docker-credential-ecr-login). This module stays
// light: host patterns and the identity plan only. The SDK is loaded by
// ./ecr/fetch.ts, imported on a cache miss.

import { join } from "node:path";
import { ProviderError, parseBoolean, type Context, type Provider, type Target } from "../provider.ts";
import { kubeletGlobs, matchEcrHost, type EcrTarget } from "./ecr/hosts.ts";
import { planEcr, type EcrPlan } from "./ecr/plan.ts";
import { ROLE_ANNOTATION, SETTINGS_KEYS, readSettings } from "./ecr/settings.ts";

const TITLE = "AWS ECR";

function plan(target: Target<EcrTarget>, ctx: Context): EcrPlan {
  return planEcr(readSettings(target.settings, target.registry), ctx);
}

/** Every error a person sees starts with the provider's title, once. */
function retitle(err: unknown): unknown {
  if (!(err instanceof ProviderError) || err.message.startsWith(`${TITLE}: `)) return err;
  return new ProviderError(`${TITLE}: ${err.message}`, { recurForMs: err.recurForMs });
}

async function titled<R>(work: () => Promise<R>): Promise<R> {
  return work().catch((err: unknown) => Promise.reject(retitle(err)));
}

function titledSync<R>(work: () => R): R {
  try {
    return work();
  } catch (err) {
    throw retitle(err);
  }
}

export const provider: Provider<EcrTarget> = {
  name: "ecr-login",
  title: TITLE,
  match: matchEcrHost,
  identity: (target, ctx) => titledSync(() => plan(target, ctx).key),
  fetch: (target, ctx) =>
    titled(async () => (await import("./ecr/fetch.ts")).fetchEcrCredential(target, plan(target, ctx), ctx)),
  // A pod without a role of its own is served with the node's identity, and shares the node's cache entry.
  usesServiceAccount: (target, ctx) => titledSync(() => plan(target, ctx).pod),
  // ECR Public pulls work anonymously: a failure should let the client go on without credentials.
  notFoundOnFailure: (target) => target.details.kind === "public",
  // The upstream helper's variables: like it, any non-empty AWS_ECR_DISABLE_CACHE turns the cache off.
  cacheOverrides: (env) => ({ dir: expandHome(env.AWS_ECR_CACHE_DIR, env), disabled: Boolean(env.AWS_ECR_DISABLE_CACHE) }),
  ignoreStore: (env) => parseBoolean(env.AWS_ECR_IGNORE_CREDS_STORAGE),
  settingsKeys: SETTINGS_KEYS,
  // Private registries are per account; ECR Public works anonymously, and a
  // credHelpers entry would make every `docker build` ask for it.
  defaultRegistries: [],
  kubeletMatchImages: kubeletGlobs(),
  // The pod's token is exchanged with sts:AssumeRoleWithWebIdentity, whose
  // audience is STS. The role annotation is optional, as EKS configures
  // cloud-provider-aws's ecr-credential-provider: AWS_ECR_ROLE_ARN may give a
  // role for every service account, and one without either is served with
  // the node's identity.
  serviceAccountTokens: { audience: "sts.amazonaws.com", optionalAnnotationKeys: [ROLE_ANNOTATION] },
  describeIdentity: (target, ctx) => titled(async () => (await import("./ecr/describe.ts")).describeEcrIdentity(target, ctx)),
  helpText: `Settings (configuration file, "registries": { "<host>": { … } }):
  profile                  AWS profile to use for this registry (as the CLI's --profile)
  roleArn                  IAM role to assume for this registry
  alias                    the ECR host this name stands for (PrivateLink endpoint, custom domain)
Environment:
  AWS_ECR_CACHE_DIR        token cache directory, when CCH_CACHE_DIR is not set
  AWS_ECR_DISABLE_CACHE=1             any non-empty value: do not cache tokens
  AWS_ECR_IGNORE_CREDS_STORAGE=true   store and erase succeed and save nothing
  AWS_ECR_ROLE_ARN         kubelet service-account mode: the role for a service account
                           without the ${ROLE_ANNOTATION} annotation (with neither, the node's identity)
  AWS_ACCESS_KEY_ID, AWS_PROFILE, AWS_DEFAULT_PROFILE, AWS_WEB_IDENTITY_TOKEN_FILE, …
                           identity, in the AWS CLI's order (environment keys, the profile's role,
                           web identity, SSO, shared credentials, credential_process, container, instance)
  AWS_ENDPOINT_URL_ECR, AWS_ENDPOINT_URL_ECR_PUBLIC, AWS_ENDPOINT_URL_STS   API endpoint overrides
`,
};

/** Upstream expands a leading `~` in AWS_ECR_CACHE_DIR. */
function expandHome(dir: string | undefined, env: Context["env"]): string | undefined {
  if (!dir) return undefined;
  if ((dir === "~" || dir.startsWith("~/")) && env.HOME) return join(env.HOME, dir.slice(1));
  return dir;
}
