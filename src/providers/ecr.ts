// AWS ECR and ECR Public (docker-credential-ecr-login). This module stays
// light: host patterns and the identity plan only. The SDK is loaded by
// ./ecr/fetch.ts, imported on a cache miss. See docs/providers/ecr.md.

import { ProviderError, type Provider } from "../provider.ts";
import { kubeletGlobs, matchEcrHost, type EcrTarget } from "./ecr/hosts.ts";
import { anonymousPlan, planEcr, type EcrPlan } from "./ecr/plan.ts";
import { HELP_TEXT, ROLE_ANNOTATION, SETTINGS_KEYS, readSettings } from "./ecr/settings.ts";

export const provider: Provider<EcrTarget, EcrPlan> = {
  manifest: {
    name: "ecr-login",
    title: "AWS ECR",
    settingsKeys: SETTINGS_KEYS,
    // Private registries are per account; ECR Public works anonymously, and a
    // credHelpers entry would make every `docker build` ask for it.
    defaultRegistries: [],
    kubeletMatchImages: kubeletGlobs(),
    // The pod's token is exchanged with sts:AssumeRoleWithWebIdentity, whose
    // audience is STS. The role annotation is optional, as EKS configures
    // cloud-provider-aws's ecr-credential-provider: AWS_ECR_ROLE_ARN may give a
    // role for every service account, and a pod with neither is served with
    // the node's identity.
    serviceAccountTokens: { audience: "sts.amazonaws.com", optionalAnnotationKeys: [ROLE_ANNOTATION] },
    tokenUser: "AWS",
    tokenMaxLifeMs: 12 * 3600_000,
    // The upstream helper's variables.
    upstreamEnv: { cacheDir: "AWS_ECR_CACHE_DIR", disableCache: "AWS_ECR_DISABLE_CACHE", ignoreStore: "AWS_ECR_IGNORE_CREDS_STORAGE" },
    helpText: HELP_TEXT,
  },
  match: matchEcrHost,
  plan(target, ctx) {
    const settings = readSettings(target.settings, target.registry);
    if (target.details.kind === "private") return { ...planEcr(settings, ctx), anonymousOnFailure: false };
    // ECR Public pulls work anonymously: no identity, or a failure, lets the client go on without credentials.
    try {
      return { ...planEcr(settings, ctx), anonymousOnFailure: true };
    } catch (err) {
      if (!(err instanceof ProviderError)) throw err;
      return anonymousPlan(err.message);
    }
  },
  fetch: async (target, plan, ctx) => (await import("./ecr/fetch.ts")).fetchEcrCredential(target, plan, ctx),
  describe: async (target, plan, ctx) => (await import("./ecr/describe.ts")).describeEcrIdentity(target, plan, ctx),
};
