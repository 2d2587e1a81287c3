// Where a Google identity comes from, in the documented order of Application
// Default Credentials: GOOGLE_APPLICATION_CREDENTIALS, the gcloud ADC file,
// the metadata server. Decided from the environment and two file lookups, so
// it runs on every `get` (the cache key names the identity) without loading
// google-auth-library.

import { shortHash } from "../../hash.ts";
import { jsonObjectOrNull } from "../../json.ts";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Context, Plan, Target } from "../../provider.ts";
import type { GcrHost } from "./hosts.ts";
import { parseGcrSettings, type GcrSettings } from "./settings.ts";
import { podOptedIn, workloadConfig, type WorkloadConfig } from "./workload.ts";

/** Google's OAuth token endpoint: where a service-account key without another token_uri is sent. */
export const GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token";

type Env = Context["env"];

/** What every Google token source yields. */
export interface AccessToken {
  token: string;
  expiresAt: Date;
}

export type CredentialSource =
  | { kind: "file"; origin: "GOOGLE_APPLICATION_CREDENTIALS" | "gcloud ADC file"; path: string }
  | { kind: "metadata"; baseUrl: string; detection: MetadataDetection }
  | { kind: "none"; reason: string }
  | { kind: "gcloud" };

/** gcp-metadata's METADATA_SERVER_DETECTION values, plus "auto" when it is unset. */
export type MetadataDetection = "auto" | "assume-present" | "bios-only" | "ping-only";
const DETECTION_VALUES = ["assume-present", "none", "bios-only", "ping-only"];

export const METADATA_DEFAULT_HOST = "169.254.169.254";
// A key file or ADC file is a few kilobytes; anything bigger is not one.
const MAX_CREDENTIAL_FILE_BYTES = 1 << 16;

export function wellKnownAdcFile(env: Env): string | null {
  if (env.CLOUDSDK_CONFIG) return join(env.CLOUDSDK_CONFIG, "application_default_credentials.json");
  if (process.platform === "win32")
    return env.APPDATA ? join(env.APPDATA, "gcloud", "application_default_credentials.json") : null;
  return env.HOME ? join(env.HOME, ".config", "gcloud", "application_default_credentials.json") : null;
}

/** The metadata server's base URL as gcp-metadata computes it (GCE_METADATA_IP, GCE_METADATA_HOST). */
export function metadataBaseUrl(env: Env): string {
  const host = env.GCE_METADATA_IP || env.GCE_METADATA_HOST || METADATA_DEFAULT_HOST;
  return /^https?:\/\//.test(host) ? host.replace(/\/+$/, "") : `http://${host}`;
}

export function findCredentialSource(env: Env, settings: GcrSettings): CredentialSource {
  if (settings.source === "gcloud") return { kind: "gcloud" };
  const fromEnv = env.GOOGLE_APPLICATION_CREDENTIALS;
  if (fromEnv) return { kind: "file", origin: "GOOGLE_APPLICATION_CREDENTIALS", path: fromEnv };
  const wellKnown = wellKnownAdcFile(env);
  if (wellKnown !== null && existsSync(wellKnown)) return { kind: "file", origin: "gcloud ADC file", path: wellKnown };

  const detection = (env.METADATA_SERVER_DETECTION ?? "").trim().toLowerCase();
  if (detection === "none") {
    return { kind: "none", reason: "METADATA_SERVER_DETECTION=none rules out the metadata server" };
  }
  if (detection !== "" && !DETECTION_VALUES.includes(detection)) {
    return { kind: "none", reason: `METADATA_SERVER_DETECTION must be one of ${DETECTION_VALUES.join(", ")} or unset` };
  }
  return { kind: "metadata", baseUrl: metadataBaseUrl(env), detection: (detection || "auto") as MetadataDetection };
}

/**
 * Who the token will belong to, as a short stable string for the cache key:
 * the key file's service account, the federation audience, a digest of a
 * user's refresh token (changes when someone logs in again), the metadata
 * server, or the gcloud account. Never a secret itself.
 */
export function describeIdentity(source: CredentialSource, settings: GcrSettings, env: Env): string {
  const base = describeSource(source, env);
  const imp = settings.impersonate;
  return imp ? `${base}>as:${[...imp.delegates, imp.target].join(">")}` : base;
}

function describeSource(source: CredentialSource, env: Env): string {
  switch (source.kind) {
    case "none":
      return "none";
    case "metadata":
      return `metadata:${source.baseUrl}`;
    case "gcloud":
      return `gcloud:${describeGcloudAccount(env)}`;
    case "file":
      return `file:${describeCredentialFile(source.path)}`;
  }
}

export function readCredentialFile(path: string): Record<string, unknown> | null {
  try {
    const text = readFileSync(path, "utf8");
    if (text.length > MAX_CREDENTIAL_FILE_BYTES) return null;
    return jsonObjectOrNull(text);
  } catch {
    return null;
  }
}

function describeCredentialFile(path: string): string {
  const json = readCredentialFile(path);
  // Unreadable: fetch will say why; the path keeps such entries apart.
  if (json === null) return `unreadable:${path}`;
  const str = (key: string): string => (typeof json[key] === "string" ? (json[key] as string) : "");
  switch (json.type) {
    case "service_account": {
      // A key whose token_uri is not Google's default is another token service's principal.
      const uri = str("token_uri");
      return uri && uri !== GOOGLE_TOKEN_URI ? `sa:${str("client_email")}@${uri}` : `sa:${str("client_email")}`;
    }
    case "external_account":
      return `wif:${str("audience")}>${str("service_account_impersonation_url")}`;
    case "authorized_user":
      return `user:${str("client_id")}:${digest(str("refresh_token"))}`;
    case "external_account_authorized_user":
      return `wif-user:${str("audience")}:${digest(str("refresh_token"))}`;
    case "impersonated_service_account":
      return `impersonated:${str("service_account_impersonation_url")}<${describeNested(json.source_credentials)}`;
    default:
      return `${String(json.type)}:${path}`;
  }
}

function describeNested(value: unknown): string {
  if (typeof value !== "object" || value === null) return "?";
  const v = value as Record<string, unknown>;
  if (typeof v.client_email === "string") return v.client_email;
  return typeof v.refresh_token === "string" ? digest(v.refresh_token) : "?";
}

/** A short digest of a secret, so a new login means a new cache entry; it reveals nothing of the secret. */
function digest(secret: string): string {
  return shortHash(secret, 16);
}

/** gcloud's active configuration and its account, read from gcloud's own files (no process spawned). */
export function describeGcloudAccount(env: Env): string {
  const dir = env.CLOUDSDK_CONFIG || (env.HOME ? join(env.HOME, ".config", "gcloud") : "");
  const account = env.CLOUDSDK_CORE_ACCOUNT;
  if (account) return account;
  if (!dir) return "default";
  const active = env.CLOUDSDK_ACTIVE_CONFIG_NAME || readSmall(join(dir, "active_config"))?.trim() || "default";
  const properties = readSmall(join(dir, "configurations", `config_${active}`)) ?? "";
  const line = /^\s*account\s*=\s*(\S+)\s*$/m.exec(properties);
  return `${active}:${line?.[1] ?? ""}`;
}

function readSmall(path: string): string | null {
  try {
    return readFileSync(path, "utf8").slice(0, MAX_CREDENTIAL_FILE_BYTES);
  } catch {
    return null;
  }
}

/**
 * The pod's own identity when kubelet sent its service account token and the
 * service account opted in (upstream's rule); otherwise Application Default
 * Credentials, i.e. the node's identity, as upstream falls back to the node's
 * service account for pods that did not opt in (and shares its cache entry).
 */
export type GcrPlan = Plan &
  ({ kind: "pod"; workload: WorkloadConfig } | { kind: "node"; credential: CredentialSource; settings: GcrSettings });

export function planGcr(target: Target<GcrHost>, ctx: Context): GcrPlan {
  if (podOptedIn(ctx.serviceAccount)) {
    // The resolver adds who the pod is; the audience says which pool it is exchanged at.
    const workload = workloadConfig(ctx.env);
    return {
      kind: "pod",
      workload,
      pod: true,
      key: workload.ok ? `wi:${workload.audience}` : "wi:unconfigured",
      source: workload.ok
        ? `the pod's service account token exchanged at ${workload.stsEndpoint} (audience ${workload.audience})`
        : "the pod's service account token (workload identity not configured)",
    };
  }
  const settings = parseGcrSettings(target.settings, target.host.key, ctx.config.path);
  const credential = findCredentialSource(ctx.env, settings);
  const key = describeIdentity(credential, settings, ctx.env);
  return { kind: "node", credential, settings, pod: false, key, source: key };
}
