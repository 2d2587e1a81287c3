// For `doctor`: which AWS identity sources exist on this machine, in the order
// the SDK's default chain tries them, and which one a fetch would use. Local
// checks only: environment names, file existence, INI section headers and key
// names (never a value), and at most one quick probe of the EC2 metadata
// server bounded by the deadline. No SDK is loaded, no token fetched.

import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseBoolean, type Context, type IdentityReport, type IdentitySource, type Target } from "../../provider.ts";
import { readTextOrNull } from "../../fsutil.ts";
import type { EcrTarget } from "./hosts.ts";
import { ROLE_ANNOTATION, podRole, readSettings } from "./identity.ts";
import { readCapped } from "../../body.ts";

export const METADATA_DEFAULT = "http://169.254.169.254";
const PROBE_MS = 1000;

/** Asks the instance metadata server which role the instance has; null when it does not answer. */
export type MetadataProbe = (endpoint: string, timeoutMs: number) => Promise<{ role: string | null } | null>;

export async function describeEcrIdentity(
  target: Target<EcrTarget>,
  ctx: Context,
  probe: MetadataProbe = probeInstanceMetadata,
): Promise<IdentityReport> {
  const env = ctx.env;
  if (ctx.serviceAccount) {
    // Pod mode uses the pod's token only; the node's sources are not candidates.
    const role = podRole(ctx.serviceAccount.annotations, env);
    const name = "the pod's service account token";
    return {
      sources: [
        role
          ? { name, found: true, detail: `exchanged with STS for role ${role.arn} (from ${role.from})` }
          : {
              name,
              found: true,
              detail: `no role to exchange it for: annotate the service account with ${ROLE_ANNOTATION} or set AWS_ECR_ROLE_ARN`,
            },
      ],
      used: role ? name : null,
    };
  }

  const settings = readSettings(target.settings, target.registry);
  const files = sharedFiles(env);
  const sources: IdentitySource[] = [];
  const profile = settings.profile ?? (env.AWS_PROFILE || undefined);

  if (profile !== undefined) {
    const from = settings.profile !== undefined ? "the configuration file" : "AWS_PROFILE";
    sources.push(profileSource(`profile ${profile} (from ${from})`, profile, files));
  }
  sources.push(environmentSource(env, profile !== undefined));
  if (profile === undefined) sources.push(profileSource("profile default", "default", files));
  sources.push(webIdentitySource(env));
  sources.push(containerSource(env));

  const earlier = sources.find((s) => s.found);
  sources.push(await metadataSource(env, ctx, earlier?.name ?? null, probe));

  const base = sources.find((s) => s.found) ?? null;
  if (settings.roleArn === undefined) return { sources, used: base?.name ?? null };
  const role: IdentitySource = {
    name: `role ${settings.roleArn} (from the configuration file)`,
    found: true,
    detail: base ? `assumed with ${base.name}` : "no base identity found to assume it with",
  };
  return { sources: [...sources, role], used: base ? role.name : null };
}

interface SharedFiles {
  config: string;
  credentials: string;
}

function sharedFiles(env: Context["env"]): SharedFiles {
  const home = env.HOME || env.USERPROFILE || "";
  return {
    config: env.AWS_CONFIG_FILE || join(home, ".aws", "config"),
    credentials: env.AWS_SHARED_CREDENTIALS_FILE || join(home, ".aws", "credentials"),
  };
}

function profileSource(name: string, profile: string, files: SharedFiles): IdentitySource {
  // The config file names sections `[profile x]` (and `[default]`); the credentials file `[x]`.
  const inConfig = iniKeys(files.config, profile === "default" ? ["default", "profile default"] : [`profile ${profile}`]);
  const inCredentials = iniKeys(files.credentials, [profile]);
  const seen: string[] = [];
  if (inConfig)
    seen.push(`${files.config} [${profile === "default" ? "default" : `profile ${profile}`}] (${describeKeys(inConfig)})`);
  if (inCredentials) seen.push(`${files.credentials} [${profile}] (${describeKeys(inCredentials)})`);
  if (seen.length === 0) return { name, found: false, detail: `not in ${files.config} or ${files.credentials}` };
  return { name, found: true, detail: seen.join("; ") };
}

/** Key names of the first matching section, or null when none exists. Values are never kept. */
export function iniKeys(path: string, sections: string[]): string[] | null {
  const text = readTextOrNull(path);
  if (text === null) return null;
  let current: string | null = null;
  let keys: string[] | null = null;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[\s*([^\]]+?)\s*\]$/.exec(line);
    if (header) {
      if (keys !== null) return keys;
      current = header[1]!.replace(/\s+/g, " ");
      if (sections.includes(current)) keys = [];
      continue;
    }
    const key = /^([A-Za-z0-9_.-]+)\s*=/.exec(line);
    if (keys !== null && current !== null && key) keys.push(key[1]!.toLowerCase());
  }
  return keys;
}

/** What kind of profile it is, from its key names alone. */
function describeKeys(keys: string[]): string {
  const has = (k: string) => keys.includes(k);
  const kinds: string[] = [];
  if (has("aws_access_key_id")) kinds.push(has("aws_session_token") ? "static keys with a session token" : "static keys");
  if (has("role_arn")) kinds.push(has("web_identity_token_file") ? "role with a web identity token file" : "role to assume");
  if (has("sso_session") || has("sso_start_url")) kinds.push("IAM Identity Center (SSO)");
  if (has("credential_process")) kinds.push("credential_process");
  if (has("login_session")) kinds.push("console login session");
  return kinds.length ? kinds.join(", ") : keys.length ? `settings only: ${keys.slice(0, 6).join(", ")}` : "empty";
}

function environmentSource(env: Context["env"], profileSet: boolean): IdentitySource {
  const name = "environment variables";
  const id = Boolean(env.AWS_ACCESS_KEY_ID);
  const secret = Boolean(env.AWS_SECRET_ACCESS_KEY);
  if (!id && !secret) return { name, found: false };
  if (!id || !secret) {
    const [set, unset] = id ? ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] : ["AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID"];
    return { name, found: false, detail: `${set} is set but ${unset} is not` };
  }
  const detail = `AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY${env.AWS_SESSION_TOKEN ? " and AWS_SESSION_TOKEN" : ""} are set`;
  // The SDK skips the environment keys when a profile is named.
  if (profileSet) return { name, found: false, detail: `${detail}, but ignored because a profile is named` };
  return { name, found: true, detail };
}

function webIdentitySource(env: Context["env"]): IdentitySource {
  const name = "web identity token file";
  const file = env.AWS_WEB_IDENTITY_TOKEN_FILE;
  const role = env.AWS_ROLE_ARN;
  if (!file && !role) return { name, found: false };
  if (!file) return { name, found: false, detail: "AWS_ROLE_ARN is set but AWS_WEB_IDENTITY_TOKEN_FILE is not" };
  if (!role) return { name, found: false, detail: `AWS_WEB_IDENTITY_TOKEN_FILE is set (${file}) but AWS_ROLE_ARN is not` };
  if (!existsSync(file)) return { name, found: false, detail: `${file} does not exist (role ${role})` };
  return { name, found: true, detail: `${file} for role ${role}` };
}

function containerSource(env: Context["env"]): IdentitySource {
  const name = "container credentials endpoint";
  const relative = env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI;
  const full = env.AWS_CONTAINER_CREDENTIALS_FULL_URI;
  if (!relative && !full) return { name, found: false };
  // Only the variable names and the endpoint's host: the URI path and any
  // authorization token are the caller's business.
  let detail = relative ? "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (ECS, 169.254.170.2)" : "AWS_CONTAINER_CREDENTIALS_FULL_URI";
  if (!relative && full) {
    try {
      detail += ` (${new URL(full).host})`;
    } catch {
      return { name, found: false, detail: "AWS_CONTAINER_CREDENTIALS_FULL_URI is not a URL" };
    }
  }
  const tokenFile = env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE;
  if (tokenFile)
    detail += existsSync(tokenFile) ? `, authorization token file ${tokenFile}` : `, but ${tokenFile} does not exist`;
  else if (env.AWS_CONTAINER_AUTHORIZATION_TOKEN) detail += ", with AWS_CONTAINER_AUTHORIZATION_TOKEN";
  return { name, found: !tokenFile || existsSync(tokenFile), detail };
}

async function metadataSource(
  env: Context["env"],
  ctx: Context,
  earlier: string | null,
  probe: MetadataProbe,
): Promise<IdentitySource> {
  const name = "EC2 instance metadata";
  if (parseBoolean(env.AWS_EC2_METADATA_DISABLED)) return { name, found: false, detail: "disabled by AWS_EC2_METADATA_DISABLED" };
  // Off EC2 a probe costs its whole timeout: only pay it when it would decide the answer.
  if (earlier !== null) return { name, found: false, detail: `not checked: ${earlier} comes first` };
  const endpoint = (env.AWS_EC2_METADATA_SERVICE_ENDPOINT || METADATA_DEFAULT).replace(/\/+$/, "");
  const timeoutMs = Math.min(PROBE_MS, ctx.deadline - ctx.now().getTime());
  if (timeoutMs <= 0) return { name, found: false, detail: "not checked: no time left before the deadline" };
  const answer = await probe(endpoint, timeoutMs).catch(() => null);
  if (answer === null) return { name, found: false, detail: `no answer from ${endpoint} within ${timeoutMs} ms` };
  if (answer.role === null) return { name, found: false, detail: `${endpoint} answers, but the instance has no IAM role` };
  return { name, found: true, detail: `instance profile role ${answer.role} (${endpoint})` };
}

/** IMDSv2: a session token (kept in memory only), then the role name. */
export const probeInstanceMetadata: MetadataProbe = async (endpoint, timeoutMs) => {
  const signal = AbortSignal.timeout(timeoutMs);
  const session = await fetch(`${endpoint}/latest/api/token`, {
    method: "PUT",
    headers: { "x-aws-ec2-metadata-token-ttl-seconds": "60" },
    signal,
  });
  if (!session.ok) return null;
  const token = await readCapped(session);
  const roles = await fetch(`${endpoint}/latest/meta-data/iam/security-credentials/`, {
    headers: { "x-aws-ec2-metadata-token": token },
    signal,
  });
  if (roles.status === 404) return { role: null };
  if (!roles.ok) return null;
  const first = (await readCapped(roles)).split("\n")[0]?.trim() ?? "";
  // A role name is [\w+=,.@-]; anything else is not what we asked for.
  return { role: /^[\w+=,.@-]{1,128}$/.test(first) ? first : null };
};
