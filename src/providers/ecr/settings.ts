// The keys of a registries entry this provider accepts, and their checks.

import { ProviderError } from "../../provider.ts";
import type { RegistrySettings } from "../../config.ts";

export const ROLE_ANNOTATION = "eks.amazonaws.com/ecr-role-arn";
const PROFILE_NAME = /^[A-Za-z0-9_.+@=,:/-]{1,128}$/;
export const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

export const SETTINGS_KEYS = ["profile", "roleArn"] as const;

export interface EcrSettings {
  /** Like the CLI's --profile: this profile, and the environment's keys and web identity are not used. */
  profile?: string;
  /** A role assumed on top of whatever identity the chain finds. */
  roleArn?: string;
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

export const HELP_TEXT = `Settings (configuration file, "registries": { "<host>": { … } }):
  profile                  AWS profile to use for this registry (as the AWS CLI's --profile)
  roleArn                  IAM role to assume for this registry
  alias                    the ECR host this name stands for (PrivateLink endpoint, custom domain)
Environment:
  AWS_ECR_CACHE_DIR        token cache directory, when CCH_CACHE_DIR is not set
  AWS_ECR_DISABLE_CACHE    any non-empty value: do not cache tokens
  AWS_ECR_IGNORE_CREDS_STORAGE=true   store and erase succeed and save nothing
  AWS_ECR_ROLE_ARN         kubelet service-account mode: the role for a service account without
                           the ${ROLE_ANNOTATION} annotation (with neither: the node's identity)
  AWS_ACCESS_KEY_ID, AWS_PROFILE, AWS_DEFAULT_PROFILE, AWS_WEB_IDENTITY_TOKEN_FILE, …
                           identity, in the AWS CLI's order: environment keys, the profile's role,
                           web identity, SSO, shared credentials, credential_process, container, instance
  AWS_ENDPOINT_URL_ECR, AWS_ENDPOINT_URL_ECR_PUBLIC, AWS_ENDPOINT_URL_STS   API endpoint overrides
`;
