// Who is asking for an ECR token, decided from settings and environment
// alone (no SDK): the same choice the SDK's default chain will make, so the
// cache key names the identity that actually fetched the token. The key holds
// profile and role names, never an access key id: rotating keys and
// assumed-role sessions keep hitting the cache.

import { shortHash } from "../../hash.ts";
import { jwtStringClaim } from "../../jwt.ts";
import { ProviderError, type Context } from "../../provider.ts";
import type { RegistrySettings } from "../../config.ts";

export const ROLE_ANNOTATION = "eks.amazonaws.com/ecr-role-arn";
const PROFILE_NAME = /^[A-Za-z0-9_.+@=,:/-]{1,128}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

export interface EcrSettings {
  profile?: string;
  roleArn?: string;
}

export interface CallerIdentity {
  /** Short, stable, secret-free: part of the cache key. */
  key: string;
  /** Where credentials come from, for error messages. */
  description: string;
  /** Profile to hand the SDK (configuration file or AWS_PROFILE). */
  profile?: string;
  /** Role to assume on top of the base credentials (configuration file). */
  roleArn?: string;
  /** Kubelet service-account-token mode: exchange the pod's token for this role. */
  webIdentity?: { roleArn: string; token: string };
}

/** Reads and checks this provider's keys of a registry's configuration entry. */
export function readSettings(settings: RegistrySettings, registry: string): EcrSettings {
  const out: EcrSettings = {};
  const text = (key: "profile" | "roleArn", pattern: RegExp, example: string): string | undefined => {
    const value = settings[key];
    if (value === undefined) return undefined;
    if (typeof value !== "string" || !pattern.test(value)) {
      throw new ProviderError(`registry ${registry}: "${key}" in the configuration file must look like ${example}`);
    }
    return value;
  };
  const profile = text("profile", PROFILE_NAME, `"prod" (an AWS profile name)`);
  const roleArn = text("roleArn", ROLE_ARN, `"arn:aws:iam::123456789012:role/pull"`);
  if (profile !== undefined) out.profile = profile;
  if (roleArn !== undefined) out.roleArn = roleArn;
  return out;
}

export function callerIdentity(settings: EcrSettings, ctx: Pick<Context, "env" | "serviceAccount">): CallerIdentity {
  const env = ctx.env;
  const sa = ctx.serviceAccount;
  if (sa) {
    const role = podRole(sa.annotations, env);
    // A pod token without a role is an error, as in cloud-provider-aws's
    // ecr-credential-provider: falling back to the node's identity would hand
    // the pod whatever the node may pull, which is what the token mode avoids.
    if (role === null) {
      throw new ProviderError(
        `no role for the pod's service account token: annotate the service account with ${ROLE_ANNOTATION} or set AWS_ECR_ROLE_ARN in the kubelet provider's env`,
      );
    }
    if (!ROLE_ARN.test(role.arn)) {
      throw new ProviderError(`the role ARN from ${role.from} is not an IAM role ARN`);
    }
    // The token's subject names the service account; a pod whose account may
    // not assume the role must not be served another pod's cached token.
    return {
      key: `sa=${shortHash(serviceAccountSubject(sa.token))}>role=${role.arn}`,
      description: `the pod's service account token exchanged for role ${role.arn} (from ${role.from})`,
      webIdentity: { roleArn: role.arn, token: sa.token },
    };
  }

  const base = baseSource(settings, env);
  if (settings.roleArn === undefined) return base;
  return {
    ...base,
    key: `${base.key}>role=${settings.roleArn}`,
    description: `role ${settings.roleArn} assumed with ${base.description}`,
    roleArn: settings.roleArn,
  };
}

/** The role a pod's token is exchanged for: the annotation, else AWS_ECR_ROLE_ARN (an empty value counts as unset). */
export function podRole(
  annotations: Readonly<Record<string, string>>,
  env: Context["env"],
): { arn: string; from: string } | null {
  const annotated = annotations[ROLE_ANNOTATION]?.trim();
  if (annotated) return { arn: annotated, from: `the annotation ${ROLE_ANNOTATION}` };
  const fromEnv = env.AWS_ECR_ROLE_ARN?.trim();
  if (fromEnv) return { arn: fromEnv, from: "AWS_ECR_ROLE_ARN" };
  return null;
}

function baseSource(settings: EcrSettings, env: Context["env"]): CallerIdentity {
  // Another shared config or credentials file may define the same profile name differently.
  const files =
    env.AWS_CONFIG_FILE || env.AWS_SHARED_CREDENTIALS_FILE
      ? `@${shortHash(`${env.AWS_CONFIG_FILE ?? ""}\n${env.AWS_SHARED_CREDENTIALS_FILE ?? ""}`)}`
      : "";
  const profile = settings.profile ?? (env.AWS_PROFILE || undefined);
  if (profile !== undefined) {
    const from = settings.profile !== undefined ? "the configuration file" : "AWS_PROFILE";
    return {
      key: `profile=${profile}${files}`,
      description: `AWS profile "${profile}" (from ${from}) in the shared config and credentials files`,
      profile,
    };
  }
  // The SDK's default chain order: environment, then files, web identity, container, instance.
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    return { key: "env", description: "the environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" };
  }
  if (env.AWS_ROLE_ARN && env.AWS_WEB_IDENTITY_TOKEN_FILE) {
    return { key: `web=${env.AWS_ROLE_ARN}`, description: `web identity role ${env.AWS_ROLE_ARN} (AWS_WEB_IDENTITY_TOKEN_FILE)` };
  }
  return {
    key: `default${files}`,
    description:
      "the AWS SDK default chain (environment, shared config and credentials files, SSO, credential_process, web identity, container and instance metadata)",
  };
}

/** The `sub` claim of a JWT (not verified: only used to separate cache entries), or the whole token. */
function serviceAccountSubject(token: string): string {
  return jwtStringClaim(token, "sub") ?? token;
}
