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
