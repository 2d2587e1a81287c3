// Who asks ECR for a token, and from which single source: the AWS CLI v2's
// credential chain (docs/providers/ecr.md, "Credential chain"), decided from
// the environment and our own reading of the shared files. No SDK, no
// network: this runs on every get, cache hits included. fetch.ts follows the
// plan step by step; describe.ts reports it. There is no other copy of the
// chain.

import { existsSync } from "node:fs";
import { shortHash } from "../../hash.ts";
import { parseBoolean } from "../../env.ts";
import { readTextOrNull } from "../../fsutil.ts";
import { jwtStringClaim } from "../../jwt.ts";
import { ProviderError, type Context, type IdentitySource, type Plan } from "../../provider.ts";
import { ROLE_ANNOTATION, ROLE_ARN, type EcrSettings } from "./settings.ts";
import { hasProfile, mergedProfile, readSharedFiles, type Section, type SharedFiles } from "./shared-files.ts";

export const METADATA_DEFAULT = "http://169.254.169.254";
export const ECS_CONTAINER_HOST = "http://169.254.170.2";

/** The one source at the bottom of the plan: fetch turns it into credentials with one SDK provider. */
export type Leaf =
  | { kind: "environment" }
  | { kind: "web-identity"; roleArn: string; tokenFile: string; sessionName?: string }
  | { kind: "sso"; profile: string }
  | { kind: "file-keys"; profile: string; file: "credentials" | "config" }
  | { kind: "process"; profile: string }
  | { kind: "container"; fullUri?: string; relativeUri?: string; tokenFile?: string; token?: boolean }
  | { kind: "instance-metadata"; endpoint: string }
  | { kind: "pod"; roleArn: string }
  /** No identity, where anonymous pulls work (ECR Public): fetch fails with the reason, the client goes on without. */
  | { kind: "none"; reason: string };

/** One sts:AssumeRole, made with the credentials below it. */
export interface RoleStep {
  roleArn: string;
  /** The profile that names the role, when it comes from the shared files. */
  profile?: string;
  sessionName?: string;
  externalId?: string;
  durationSeconds?: number;
}

/** The contract's plan (key, source, pod) plus the steps fetch follows. */
export interface EcrPlan extends Plan {
  leaf: Leaf;
  /** Roles assumed in this order on top of the leaf's credentials. */
  roles: RoleStep[];
  configPath: string;
  credentialsPath: string;
}

/** A chain step for doctor: what it found or why it does not apply. */
type Explain = IdentitySource[];

interface Found {
  leaf: Leaf;
  roles: RoleStep[];
  key: string;
  source: string;
  /** For doctor, when the step's name already says what `source` starts with. */
  detail?: string;
}

/**
 * The plan for a target's settings and this environment. Throws a
 * ProviderError (without the provider's title) when the configuration is
 * wrong: a missing profile, a role without a source, half a key pair.
 * With `explain`, every step of the chain is recorded for doctor, also those
 * after the one that is used.
 */
export function planEcr(settings: EcrSettings, ctx: Pick<Context, "env" | "serviceAccount">, explain?: Explain): EcrPlan {
  const env = ctx.env;
  const files = readSharedFiles(env);
  const paths = { configPath: files.configPath, credentialsPath: files.credentialsPath };
  const sa = ctx.serviceAccount;
  if (sa) {
    const role = podRole(sa.annotations, env);
    if (role !== null) {
      if (!ROLE_ARN.test(role.arn)) throw new ProviderError(`the role ARN from ${role.from} is not an IAM role ARN`);
      const source = `the pod's service account token exchanged for role ${role.arn} (from ${role.from})`;
      explain?.push({ name: "the pod's service account token", found: true, detail: `exchanged with STS for role ${role.arn} (from ${role.from})` });
      // The resolver adds who the pod is to the key.
      return { key: `pod>role:${role.arn}`, source, pod: true, leaf: { kind: "pod", roleArn: role.arn }, roles: [], ...paths };
    }
    // No role for this pod: the node's identity serves it and shares the node's cache entry.
    explain?.push({
      name: "the pod's service account token",
      found: false,
      detail: `no ${ROLE_ANNOTATION} annotation and no AWS_ECR_ROLE_ARN: the node's identity is used`,
    });
  }

  const chosen = choose(settings, env, files, explain);
  let { key, source } = chosen;
  const roles = [...chosen.roles];
  if (settings.roleArn !== undefined) {
    roles.push({ roleArn: settings.roleArn });
    key += `>role:${settings.roleArn}`;
    source = `role ${settings.roleArn} (from the configuration file) assumed with ${source}`;
    explain?.push({ name: `role ${settings.roleArn} (from the configuration file)`, found: true, detail: `assumed with ${chosen.source}` });
  }
  return { key, source, pod: false, leaf: chosen.leaf, roles, ...paths };
}

/** Where anonymous pulls work and no identity can be planned: the reason, for the debug log and doctor. */
export function anonymousPlan(reason: string): EcrPlan {
  return {
    key: "anonymous",
    source: `no identity (${reason})`,
    pod: false,
    anonymousOnFailure: true,
    leaf: { kind: "none", reason },
    roles: [],
    configPath: "",
    credentialsPath: "",
  };
}

/** The role a pod's token is exchanged for: the annotation, else AWS_ECR_ROLE_ARN (an empty value counts as unset). */
export function podRole(annotations: Readonly<Record<string, string>>, env: Context["env"]): { arn: string; from: string } | null {
  const annotated = annotations[ROLE_ANNOTATION]?.trim();
  if (annotated) return { arn: annotated, from: `the annotation ${ROLE_ANNOTATION}` };
  const fromEnv = env.AWS_ECR_ROLE_ARN?.trim();
  if (fromEnv) return { arn: fromEnv, from: "AWS_ECR_ROLE_ARN" };
  return null;
}

/** Which profile is in use and who named it: the registry's setting, AWS_PROFILE, AWS_DEFAULT_PROFILE, else default. */
export function activeProfile(settings: EcrSettings, env: Context["env"]): { name: string; from: string | null } {
  if (settings.profile !== undefined) return { name: settings.profile, from: "the configuration file" };
  if (env.AWS_PROFILE) return { name: env.AWS_PROFILE, from: "AWS_PROFILE" };
  if (env.AWS_DEFAULT_PROFILE) return { name: env.AWS_DEFAULT_PROFILE, from: "AWS_DEFAULT_PROFILE" };
  return { name: "default", from: null };
}

function choose(settings: EcrSettings, env: Context["env"], files: SharedFiles, explain?: Explain): Found {
  const { name: profile, from } = activeProfile(settings, env);
  if (from !== null && !hasProfile(files, profile)) {
    throw new ProviderError(
      `the AWS profile "${profile}" (from ${from}) is in neither ${files.configPath} nor ${files.credentialsPath}`,
    );
  }
  // A profile named for the registry is the CLI's --profile: the environment's keys and web identity are not used.
  const useEnv = settings.profile === undefined;
  const filesPart = `profile:${profile}@${shortHash(`${files.configPath}\n${files.credentialsPath}`)}`;
  const steps: Array<[string, () => Found | null]> = [
    ["environment keys", () => (useEnv ? environmentKeys(env) : null)],
    [`profile ${profile}: role to assume`, () => profileRole(profile, files, env, [], filesPart)],
    ...profileSteps(profile, files, env, useEnv, filesPart),
    ["container credentials", () => containerCredentials(env)],
    ["EC2 instance metadata", () => instanceMetadata(env)],
  ];
  let found: Found | null = null;
  for (const [name, step] of steps) {
    if (found !== null && explain === undefined) break;
    let here: Found | null;
    try {
      here = step();
    } catch (err) {
      if (!(err instanceof ProviderError)) throw err;
      explain?.push({ name, found: false, detail: err.message });
      // The CLI stops at a step that is configured wrong; so do we. After the chosen step, doctor only notes it.
      if (found === null) throw err;
      continue;
    }
    if (explain !== undefined) {
      explain.push(
        here === null
          ? { name, found: false }
          : { name, found: true, detail: found === null ? (here.detail ?? here.source) : `also here, but not used: ${here.source}` },
      );
    }
    if (found === null && here !== null) found = here;
  }
  if (found !== null) return found;
  throw new ProviderError(
    `no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, name a profile (AWS_PROFILE), or run where a web identity, container or instance role is available`,
  );
}

/**
 * The steps one profile can provide by itself, in the CLI's order: web
 * identity, SSO, keys in the credentials file, credential_process, keys in
 * the config file. With `useEnv`, web identity may come from AWS_ROLE_ARN and
 * AWS_WEB_IDENTITY_TOKEN_FILE (each overriding the profile's own setting).
 */
function profileSteps(
  profile: string,
  files: SharedFiles,
  env: Context["env"],
  useEnv: boolean,
  filesPart: string,
): Array<[string, () => Found | null]> {
  const merged = mergedProfile(files, profile);
  const scoped = (f: Found | null): Found | null => (f === null ? null : { ...f, key: `${filesPart}|${f.key}` });
  return [
    ["web identity", () => webIdentity(profile, merged, env, useEnv)],
    [`profile ${profile}: IAM Identity Center (SSO)`, () => scoped(sso(profile, merged, files))],
    [`profile ${profile}: keys in ${files.credentialsPath}`, () => scoped(fileKeys(profile, files.credentials.get(profile), "credentials", files.credentialsPath))],
    [`profile ${profile}: credential_process`, () => scoped(credentialProcess(profile, merged))],
    [`profile ${profile}: keys in ${files.configPath}`, () => scoped(fileKeys(profile, files.config.get(profile), "config", files.configPath))],
  ];
}

/** The first source a profile provides by itself (a role's source_profile), or null. */
function profileLeaf(profile: string, files: SharedFiles, env: Context["env"], filesPart: string): Found | null {
  for (const [, step] of profileSteps(profile, files, env, false, filesPart)) {
    const found = step();
    if (found !== null) return found;
  }
  return null;
}

function environmentKeys(env: Context["env"]): Found | null {
  const id = env.AWS_ACCESS_KEY_ID;
  // Without an access key id the CLI goes on to the next source, whatever else is set.
  if (!id) return null;
  if (!env.AWS_SECRET_ACCESS_KEY) throw new ProviderError("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
  return {
    leaf: { kind: "environment" },
    roles: [],
    key: `env:${shortHash(id)}`,
    source: `environment keys (AWS_ACCESS_KEY_ID ${keyHint(id)})`,
    detail: `AWS_ACCESS_KEY_ID ${keyHint(id)} and AWS_SECRET_ACCESS_KEY${env.AWS_SESSION_TOKEN ? " and AWS_SESSION_TOKEN" : ""} are set`,
  };
}

/** An access key id as the CLI's `configure list` shows it: its last four characters. */
function keyHint(id: string): string {
  return `…${id.slice(-4)}`;
}

function fileKeys(profile: string, section: Section | undefined, file: "credentials" | "config", path: string): Found | null {
  const id = section?.aws_access_key_id;
  if (id === undefined) return null;
  if (!section?.aws_secret_access_key) {
    throw new ProviderError(`profile ${profile} in ${path} has aws_access_key_id but no aws_secret_access_key`);
  }
  return {
    leaf: { kind: "file-keys", profile, file },
    roles: [],
    key: `keys:${shortHash(id)}`,
    source: `profile ${profile}: keys ${keyHint(id)} in ${path}`,
  };
}

function webIdentity(profile: string, merged: Section, env: Context["env"], useEnv: boolean): Found | null {
  const pick = (envName: string, key: string): { value: string; from: string } | null => {
    if (useEnv && env[envName]) return { value: env[envName]!, from: envName };
    if (merged[key]) return { value: merged[key]!, from: `profile ${profile}` };
    return null;
  };
  const tokenFile = pick("AWS_WEB_IDENTITY_TOKEN_FILE", "web_identity_token_file");
  if (tokenFile === null) return null;
  const role = pick("AWS_ROLE_ARN", "role_arn");
  if (role === null) {
    throw new ProviderError(`a web identity token file is set (${tokenFile.from}) but no role: set AWS_ROLE_ARN or role_arn`);
  }
  const session = pick("AWS_ROLE_SESSION_NAME", "role_session_name");
  // The token's subject names who the token speaks for; the file is read again at fetch.
  const token = readTextOrNull(tokenFile.value)?.trim() ?? "";
  const sub = jwtStringClaim(token, "sub");
  const who = sub !== null ? `sub=${sub}` : `file=${tokenFile.value}`;
  return {
    leaf: { kind: "web-identity", roleArn: role.value, tokenFile: tokenFile.value, ...(session ? { sessionName: session.value } : {}) },
    roles: [],
    key: `web:${role.value}:${shortHash(who)}`,
    source: `web identity ${tokenFile.value} (${tokenFile.from}) for role ${role.value} (${role.from})`,
    detail: `token file ${tokenFile.value} (${tokenFile.from}) for role ${role.value} (${role.from})`,
  };
}

/**
 * An SSO profile names its role (sso_role_name or sso_account_id); then it
 * needs both, and the start URL and region, from the profile or its
 * [sso-session] section. A profile with only sso_session is for tokens, not
 * credentials, and the chain goes on.
 */
function sso(profile: string, merged: Section, files: SharedFiles): Found | null {
  if (merged.sso_role_name === undefined && merged.sso_account_id === undefined) return null;
  let resolved: Section = merged;
  if (merged.sso_session !== undefined) {
    const session = files.ssoSessions.get(merged.sso_session);
    if (session === undefined) {
      throw new ProviderError(`profile ${profile} names sso_session ${merged.sso_session}, which ${files.configPath} does not define`);
    }
    for (const [key, value] of Object.entries(session)) {
      if (merged[key] !== undefined && merged[key] !== value) {
        throw new ProviderError(`profile ${profile}: ${key} differs between the profile and its sso-session ${merged.sso_session}`);
      }
    }
    resolved = { ...merged, ...session };
  }
  const missing = ["sso_role_name", "sso_account_id", "sso_start_url", "sso_region"].filter((k) => !resolved[k]);
  if (missing.length > 0) throw new ProviderError(`profile ${profile} is an SSO profile without ${missing.join(", ")}`);
  return {
    leaf: { kind: "sso", profile },
    roles: [],
    key: `sso:${shortHash(resolved.sso_start_url!)}:${resolved.sso_account_id}:${resolved.sso_role_name}`,
    source: `profile ${profile}: IAM Identity Center role ${resolved.sso_role_name} in account ${resolved.sso_account_id}`,
  };
}

function credentialProcess(profile: string, merged: Section): Found | null {
  const command = merged.credential_process;
  if (!command) return null;
  return {
    leaf: { kind: "process", profile },
    roles: [],
    key: `process:${shortHash(command)}`,
    source: `profile ${profile}: credential_process`,
  };
}

/**
 * A profile's role_arn with source_profile or credential_source (a profile
 * with web_identity_token_file is a web identity profile instead). The
 * source profile may itself assume a role: the chain is followed to its
 * bottom, which must be a source of its own.
 */
function profileRole(profile: string, files: SharedFiles, env: Context["env"], visited: string[], filesPart: string): Found | null {
  const p = mergedProfile(files, profile);
  if (!p.role_arn || p.web_identity_token_file) return null;
  const step: RoleStep = { roleArn: p.role_arn, profile };
  if (p.role_session_name) step.sessionName = p.role_session_name;
  if (p.external_id) step.externalId = p.external_id;
  // As in the CLI, a duration that is not a whole number is left out (STS then uses its default).
  if (p.duration_seconds && /^\s*\d+\s*$/.test(p.duration_seconds)) step.durationSeconds = Number(p.duration_seconds);
  if (p.mfa_serial) {
    throw new ProviderError(`profile ${profile} needs an MFA code (mfa_serial), which a credential helper cannot ask for: use a profile without MFA`);
  }
  const source = p.source_profile;
  const sourcer = p.credential_source;
  if (source && sourcer) throw new ProviderError(`profile ${profile} has both source_profile and credential_source: keep one`);
  let below: Found;
  if (sourcer) {
    const from =
      sourcer === "Environment"
        ? environmentKeys(env)
        : sourcer === "Ec2InstanceMetadata"
          ? instanceMetadata(env)
          : sourcer === "EcsContainer"
            ? containerCredentials(env)
            : undefined;
    if (from === undefined) {
      throw new ProviderError(`profile ${profile}: credential_source must be Environment, Ec2InstanceMetadata or EcsContainer, not ${sourcer}`);
    }
    if (from === null) throw new ProviderError(`profile ${profile}: no credentials from its credential_source ${sourcer}`);
    below = from;
  } else if (source) {
    // A profile may name itself as its source when it holds keys; any other loop has no bottom.
    if (visited.includes(source) || (source === profile && !hasKeys(p))) {
      throw new ProviderError(`profile ${profile}: source_profile ${source} leads back to a profile already in the chain`);
    }
    if (!hasProfile(files, source)) {
      throw new ProviderError(`profile ${profile}: its source_profile ${source} is in neither ${files.configPath} nor ${files.credentialsPath}`);
    }
    const s = mergedProfile(files, source);
    const sourcePart = `profile:${source}@${filesPart.split("@")[1]}`;
    const deeper = hasKeys(s) || !s.role_arn || s.web_identity_token_file ? null : profileRole(source, files, env, [...visited, profile], filesPart);
    const leaf = deeper ?? profileLeaf(source, files, env, sourcePart);
    if (leaf === null) throw new ProviderError(`profile ${profile}: its source_profile ${source} has no credentials`);
    below = leaf;
  } else {
    throw new ProviderError(`profile ${profile} has role_arn but neither source_profile nor credential_source`);
  }
  return {
    leaf: below.leaf,
    roles: [...below.roles, step],
    key: `${visited.length === 0 ? `${filesPart}|` : ""}${below.key}>role:${step.roleArn}`,
    source: `profile ${profile}: role ${step.roleArn} assumed with ${below.source}`,
  };
}

function hasKeys(p: Section): boolean {
  return p.aws_access_key_id !== undefined || p.aws_secret_access_key !== undefined;
}

function containerCredentials(env: Context["env"]): Found | null {
  const relativeUri = env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI;
  const fullUri = env.AWS_CONTAINER_CREDENTIALS_FULL_URI;
  if (!relativeUri && !fullUri) return null;
  const leaf: Extract<Leaf, { kind: "container" }> = { kind: "container" };
  let where: string;
  if (relativeUri) {
    leaf.relativeUri = relativeUri;
    where = `${ECS_CONTAINER_HOST} (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI)`;
  } else {
    let url: URL;
    try {
      url = new URL(fullUri!);
    } catch {
      throw new ProviderError("AWS_CONTAINER_CREDENTIALS_FULL_URI is not a URL");
    }
    leaf.fullUri = fullUri!;
    where = `${url.host} (AWS_CONTAINER_CREDENTIALS_FULL_URI)`;
  }
  const tokenFile = env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE;
  if (tokenFile) {
    if (!existsSync(tokenFile)) throw new ProviderError(`AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE names ${tokenFile}, which does not exist`);
    leaf.tokenFile = tokenFile;
    where += `, authorization token from ${tokenFile}`;
  } else if (env.AWS_CONTAINER_AUTHORIZATION_TOKEN) {
    leaf.token = true;
    where += ", authorization token from AWS_CONTAINER_AUTHORIZATION_TOKEN";
  }
  // The endpoint serves one principal (the task's or the pod's role).
  return { leaf, roles: [], key: `container:${shortHash(relativeUri ? `relative:${relativeUri}` : fullUri!)}`, source: `container credentials from ${where}` };
}

function instanceMetadata(env: Context["env"]): Found | null {
  if (parseBoolean(env.AWS_EC2_METADATA_DISABLED)) return null;
  const endpoint = (env.AWS_EC2_METADATA_SERVICE_ENDPOINT || METADATA_DEFAULT).replace(/\/+$/, "");
  // One instance role per machine: the endpoint names it without a call.
  return { leaf: { kind: "instance-metadata", endpoint }, roles: [], key: `imds:${shortHash(endpoint)}`, source: `the EC2 instance role (metadata at ${endpoint})` };
}
