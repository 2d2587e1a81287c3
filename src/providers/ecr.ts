// AWS ECR and ECR Public (docker-credential-ecr-login). This module stays
// light: host patterns and the identity plan only. The SDK is loaded by
// ./ecr/fetch.ts, imported on a cache miss. See docs/providers/ecr.md.

import type { Plan, Provider } from "../provider.ts";
import { kubeletGlobs, matchEcrHost, type EcrTarget } from "./ecr/hosts.ts";
import { ROLE_ANNOTATION, callerIdentity, readSettings, type CallerIdentity } from "./ecr/identity.ts";

export interface EcrPlan extends Plan {
  caller: CallerIdentity;
}

export const provider: Provider<EcrTarget, EcrPlan> = {
  manifest: {
    name: "ecr-login",
    title: "AWS ECR",
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
    tokenUser: "AWS",
    tokenMaxLifeMs: 12 * 3600_000,
    // The upstream helper's variables.
    upstreamEnv: { cacheDir: "AWS_ECR_CACHE_DIR", disableCache: "AWS_ECR_DISABLE_CACHE", ignoreStore: "AWS_ECR_IGNORE_CREDS_STORAGE" },
    helpText: `Settings (configuration file, "registries": { "<host>": { … } }):
  profile                  AWS profile to use for this registry
  roleArn                  IAM role to assume for this registry
  alias                    the ECR host this name stands for (PrivateLink endpoint, custom domain)
Environment:
  AWS_ECR_CACHE_DIR        token cache directory, when CCH_CACHE_DIR is not set
  AWS_ECR_DISABLE_CACHE    any non-empty value: do not cache tokens
  AWS_ECR_IGNORE_CREDS_STORAGE=true   store and erase succeed and save nothing
  AWS_ECR_ROLE_ARN         kubelet service-account mode: the role for a service account
                           without the ${ROLE_ANNOTATION} annotation
  AWS_PROFILE, AWS_ACCESS_KEY_ID, AWS_WEB_IDENTITY_TOKEN_FILE, …   the AWS SDK's identity sources
  AWS_ENDPOINT_URL_ECR, AWS_ENDPOINT_URL_ECR_PUBLIC, AWS_ENDPOINT_URL_STS   API endpoint overrides
`,
  },
  match: matchEcrHost,
  plan(target, ctx) {
    const caller = callerIdentity(readSettings(target.settings, target.registry), ctx);
    return {
      key: caller.key,
      source: caller.description,
      pod: caller.webIdentity !== undefined,
      // ECR Public pulls work anonymously: a failure should let the client go on without credentials.
      anonymousOnFailure: target.details.kind === "public",
      caller,
    };
  },
  fetch: async (target, plan, ctx) => (await import("./ecr/fetch.ts")).fetchEcrCredential(target, plan.caller, ctx),
  describe: async (target, _plan, ctx) => (await import("./ecr/describe.ts")).describeEcrIdentity(target, ctx),
};
