// Kubelet's side of the credential provider protocol, written from
// docs/protocols.md (kubernetes pkg/credentialprovider/plugin): how it runs a
// plugin, how strictly it decodes the answer, and how matchImages globs match.

import { runCommand, type RunResult } from "./env.ts";

export const KUBELET_TIMEOUT_MS = 60_000;

/** Runs a plugin as kubelet does: argv from the config, config env appended to kubelet's, one JSON line on stdin, killed after 1 minute. */
export async function runAsKubelet(argv: string[], env: Record<string, string>, request: object): Promise<RunResult> {
  return runCommand(argv, JSON.stringify(request) + "\n", env, { timeoutMs: KUBELET_TIMEOUT_MS });
}

const RESPONSE_FIELDS = new Set(["kind", "apiVersion", "cacheKeyType", "cacheDuration", "auth"]);
const CACHE_KEY_TYPES = new Set(["Image", "Registry", "Global"]);

export interface DecodedResponse {
  apiVersion: string;
  cacheKeyType: string;
  cacheDurationMs: number | null;
  auth: Record<string, { username: string; password: string }>;
}

/** Decodes stdout the way kubelet does, throwing on anything kubelet would reject. */
export function decodeStrict(stdout: string, expectedApiVersion: string): DecodedResponse {
  const text = stdout.trim();
  if (text.includes("\n")) throw new Error("stdout must hold only the JSON response");
  const data = JSON.parse(text) as Record<string, unknown>;
  rejectDuplicateKeys(text);
  for (const k of Object.keys(data)) if (!RESPONSE_FIELDS.has(k)) throw new Error(`unknown field ${k}`);
  if (data.kind !== "CredentialProviderResponse") throw new Error(`kind ${String(data.kind)}`);
  if (data.apiVersion !== expectedApiVersion) throw new Error(`apiVersion ${String(data.apiVersion)} != ${expectedApiVersion}`);
  if (typeof data.cacheKeyType !== "string" || !CACHE_KEY_TYPES.has(data.cacheKeyType)) throw new Error("invalid cacheKeyType");
  let cacheDurationMs: number | null = null;
  if (data.cacheDuration !== undefined) {
    if (typeof data.cacheDuration !== "string") throw new Error("cacheDuration must be a Go duration string");
    cacheDurationMs = parseGoDuration(data.cacheDuration);
  }
  const auth = (data.auth ?? {}) as Record<string, unknown>;
  if (typeof auth !== "object" || Array.isArray(auth)) throw new Error("auth must be an object");
  for (const [key, v] of Object.entries(auth)) {
    const entry = v as Record<string, unknown>;
    for (const f of Object.keys(entry)) if (f !== "username" && f !== "password") throw new Error(`unknown auth field ${f}`);
    if (typeof entry.username !== "string" || typeof entry.password !== "string") throw new Error(`auth ${key} is incomplete`);
  }
  return {
    apiVersion: data.apiVersion,
    cacheKeyType: data.cacheKeyType,
    cacheDurationMs,
    auth: auth as DecodedResponse["auth"],
  };
}

function rejectDuplicateKeys(text: string): void {
  // JSON.parse keeps the last duplicate silently; kubelet's strict decoder refuses it.
  const seen: Array<Set<string>> = [];
  const re = /"((?:[^"\\]|\\.)*)"\s*:|[{}]/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[0] === "{") seen.push(new Set());
    else if (m[0] === "}") seen.pop();
    else {
      const keys = seen[seen.length - 1]!;
      if (keys.has(m[1]!)) throw new Error(`duplicate field ${m[1]}`);
      keys.add(m[1]!);
    }
  }
}

/** Go's time.ParseDuration, for the units kubelet accepts (no "d"). */
export function parseGoDuration(text: string): number {
  if (text === "0") return 0;
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let i = 0;
  if (text === "") throw new Error("empty duration");
  while (i < text.length) {
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) throw new Error(`invalid Go duration ${JSON.stringify(text)}`);
    total += Number(m[1]) * unit[m[2]!]!;
    i = re.lastIndex;
  }
  return total;
}

/** kubelet's URL/glob matching of a matchImages entry (or an auth key) against an image. */
export function kubeletMatches(pattern: string, image: string): boolean {
  const strip = (s: string) => s.replace(/^https?:\/\//, "").replace(/^\/?v[12]\//, "");
  const split = (s: string) => {
    const slash = s.indexOf("/");
    const hostport = slash === -1 ? s : s.slice(0, slash);
    const path = slash === -1 ? "" : s.slice(slash);
    const colon = hostport.lastIndexOf(":");
    return colon === -1
      ? { host: hostport, port: "", path }
      : { host: hostport.slice(0, colon), port: hostport.slice(colon + 1), path };
  };
  const p = split(strip(pattern));
  const t = split(strip(image));
  const pl = p.host.split(".");
  const tl = t.host.split(".");
  if (pl.length !== tl.length) return false;
  for (let i = 0; i < pl.length; i++) if (!globLabel(pl[i]!, tl[i]!)) return false;
  if (p.port !== t.port) return false;
  return t.path.startsWith(p.path);
}

function globLabel(pattern: string, label: string): boolean {
  // Go's filepath.Match on one label: '*' matches any run of characters (never a dot here).
  const re = new RegExp(
    "^" +
      pattern
        .split("*")
        .map((x) => x.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
        .join("[^.]*") +
      "$",
  );
  return re.test(label);
}

/**
 * A JWT-shaped projected service account token, as kubelet sends it (the API
 * server signs real ones; the helpers only read the claims). Distinct nonces
 * make distinct tokens for the same service account (rotation).
 */
export function serviceAccountToken(
  namespace: string,
  name: string,
  uid: string,
  options: { nonce?: string; audience?: string } = {},
): string {
  const nonce = options.nonce ?? "n";
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const claims = {
    aud: [options.audience ?? "https://kubernetes.default.svc.cluster.local"],
    sub: `system:serviceaccount:${namespace}:${name}`,
    "kubernetes.io": { namespace, serviceaccount: { name, uid } },
    nonce,
  };
  return `${b64({ alg: "RS256", kid: "test" })}.${b64(claims)}.sig-${nonce}-${"x".repeat(24)}`;
}

/** One provider's answer when kubelet pulls `image` under a CredentialProviderConfig. */
export interface PluginAnswer {
  name: string;
  result: RunResult;
  decoded: DecodedResponse | null;
}

/**
 * What kubelet does for one image under a CredentialProviderConfig: every
 * provider whose matchImages match is run from `binDir` by name, with its
 * args, its env appended to kubelet's, and a request in its apiVersion; each
 * answer is decoded strictly (a non-zero exit decodes nothing).
 */
export async function pullWithConfig(
  config: { providers: Array<{ name: string; matchImages: string[]; apiVersion: string; args?: string[]; env?: Array<{ name: string; value: string }> }> },
  binDir: string,
  image: string,
  env: Record<string, string>,
  extra: object = {},
): Promise<PluginAnswer[]> {
  const answers: PluginAnswer[] = [];
  for (const p of config.providers) {
    if (!p.matchImages.some((m) => kubeletMatches(m, image))) continue;
    const pluginEnv = { ...env, ...Object.fromEntries((p.env ?? []).map((e) => [e.name, e.value])) };
    const request = { kind: "CredentialProviderRequest", apiVersion: p.apiVersion, image, ...extra };
    const result = await runAsKubelet([`${binDir}/${p.name}`, ...(p.args ?? [])], pluginEnv, request);
    answers.push({ name: p.name, result, decoded: result.exitCode === 0 ? decodeStrict(result.stdout, p.apiVersion) : null });
  }
  return answers;
}
