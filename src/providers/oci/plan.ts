// Which OCI identity signs the token request: the one the configuration names,
// or the first found in the automatic order. Decided without the SDK and
// without the network, because `identity()` runs on every `get` (it keys the
// cache) and must agree with what `fetch` will use.
//
// Automatic order: local and explicit first, the network probe last.
//   1. the OCI configuration file's profile: API key, or session token when the
//      profile has security_token_file (what `oci session authenticate` writes);
//   2. resource principal, when OCI_RESOURCE_PRINCIPAL_VERSION is set and the
//      variables of that version are all there (resourcePrincipalEnv);
//   3. OKE workload identity, as the Go and Python SDKs find it: a service
//      account token mounted, and either OCI_RESOURCE_PRINCIPAL_VERSION (1.1 or
//      2.2) with OCI_RESOURCE_PRINCIPAL_REGION and KUBERNETES_SERVICE_HOST (the
//      proxymux on its port 12250), or KUBERNETES_SERVICE_HOST with
//      KUBERNETES_SERVICE_PORT_PROXYMUX (oci-common for TypeScript), or
//      CCH_OCI_PROXYMUX_URL (okeWorkloadEnv);
//   4. instance principal: asks the instance metadata service, so it is tried
//      last; when that does not answer, the error lists all that was tried,
//      naming the variables an incomplete kind lacks.
// A kind whose variables are incomplete is never picked: in an OKE pod the
// SDKs' environment sets OCI_RESOURCE_PRINCIPAL_VERSION without the resource
// principal's token and key, which is workload identity, not a broken
// resource principal. The protocol facts are in docs/providers/oci.md.

import { shortHash } from "../../hash.ts";
import { jwtStringClaim } from "../../jwt.ts";
import { existsSync, readFileSync } from "node:fs";
import { ProviderError, type Context, type Plan, type Target } from "../../provider.ts";
import type { OcirHost } from "./hosts.ts";
import { chooseProfile, locateConfig, OciConfigError, profileSettings, readOciConfig } from "./config-file.ts";
import { metadataBaseUrl, proxymuxUrl, readSettings, serviceAccountTokenFile, type AuthKind, type OciSettings } from "./settings.ts";

/**
 * In kubelet service-account mode the pod's OKE workload identity signs, not
 * the node's plan (which need not even exist); the resolver adds which
 * service account it is, so pods never share a token with each other or the node.
 */
export type OciPlan = Plan & { settings: OciSettings } & ({ kind: "pod" } | { kind: "node"; node: NodePlan });

export function planOci(target: Target<OcirHost>, ctx: Context): OciPlan {
  const settings = readSettings(target.settings, ctx.env);
  if (ctx.serviceAccount) {
    const endpoint = proxymuxUrl(ctx.env);
    const key = `oke_pod:${endpoint.ok ? endpoint.url : "unconfigured"}`;
    return { kind: "pod", settings, pod: true, key, source: "the pod's OKE workload identity" };
  }
  const node = choosePlan(settings, ctx.env);
  const key = describePlan(node, ctx.env);
  return { kind: "node", node, settings, pod: false, key, source: key };
}

type Env = Readonly<Record<string, string | undefined>>;

export type NodePlan =
  | { kind: "api_key" | "session_token"; configPath: string; profile: string; values: ReadonlyMap<string, string> }
  | { kind: "instance_principal"; metadataUrl: string; automatic: boolean; tried: string[] }
  | { kind: "resource_principal"; version: ResourcePrincipalVersion }
  | { kind: "oke_workload_identity"; tokenPath: string };

export type ResourcePrincipalVersion = "2.2" | "1.1";

/** An identity kind's environment: complete, or what it lacks (names of variables or files). */
export type EnvCheck<T> = ({ ok: true } & T) | { ok: false; reason: string };

const RP = "OCI_RESOURCE_PRINCIPAL_";
/** The variables each resource principal version needs, as the Go SDK requires them. */
const RP_REQUIRED: Readonly<Record<ResourcePrincipalVersion, readonly string[]>> = {
  // The session token and its key (each the value itself or an absolute path), and the region.
  "2.2": [`${RP}RPST`, `${RP}PRIVATE_PEM`, `${RP}REGION`],
  // The resource principal token service; the instance principal signs for it.
  "1.1": [`${RP}RPT_ENDPOINT`],
};

/** Resource principal from OCI_RESOURCE_PRINCIPAL_*: which version, or why not. */
export function resourcePrincipalEnv(env: Env): EnvCheck<{ version: ResourcePrincipalVersion }> {
  const version = env[`${RP}VERSION`];
  if (!version) return { ok: false, reason: `${RP}VERSION is not set` };
  if (version !== "2.2" && version !== "1.1") {
    return { ok: false, reason: `${RP}VERSION=${version.slice(0, 20)} is not supported (2.2 or 1.1)` };
  }
  const missing = RP_REQUIRED[version].filter((name) => !env[name]);
  if (missing.length > 0) return { ok: false, reason: `version ${version} lacks ${missing.join(", ")}` };
  return { ok: true, version };
}

/** OKE workload identity from the environment the OCI SDKs read: the token file, or why not. */
export function okeWorkloadEnv(env: Env): EnvCheck<{ tokenPath: string }> {
  const version = env[`${RP}VERSION`];
  const sdkMarker = version === "2.2" || version === "1.1";
  const missing: string[] = [];
  if (env.CCH_OCI_PROXYMUX_URL) {
    // The proxymux named outright (kubelet's configuration, a test).
  } else if (sdkMarker) {
    for (const name of [`${RP}REGION`, "KUBERNETES_SERVICE_HOST"]) if (!env[name]) missing.push(name);
  } else if (env.KUBERNETES_SERVICE_PORT_PROXYMUX) {
    if (!env.KUBERNETES_SERVICE_HOST) missing.push("KUBERNETES_SERVICE_HOST");
  } else {
    return {
      ok: false,
      reason: `neither ${RP}VERSION (1.1 or 2.2) nor KUBERNETES_SERVICE_PORT_PROXYMUX nor CCH_OCI_PROXYMUX_URL is set`,
    };
  }
  // The token file too: a node whose kubelet configuration sets the proxymux
  // for pods' tokens has none, and must go on to its own instance principal.
  const tokenPath = serviceAccountTokenFile(env);
  if (!existsSync(tokenPath)) missing.push(`a service account token at ${tokenPath}`);
  if (missing.length > 0) return { ok: false, reason: `lacks ${missing.join(", ")}` };
  return { ok: true, tokenPath };
}

export function choosePlan(settings: OciSettings, env: Env): NodePlan {
  if (settings.auth !== null) return explicitPlan(settings.auth, settings, env);
  const tried: string[] = [];

  const config = fromConfigFile(settings, env, null);
  if ("plan" in config) return config.plan;
  tried.push(config.why);

  const rp = resourcePrincipalEnv(env);
  if (rp.ok) return { kind: "resource_principal", version: rp.version };
  const oke = okeWorkloadEnv(env);
  if (oke.ok) return { kind: "oke_workload_identity", tokenPath: oke.tokenPath };
  if (!env.OCI_RESOURCE_PRINCIPAL_VERSION && !env.KUBERNETES_SERVICE_PORT_PROXYMUX && !env.CCH_OCI_PROXYMUX_URL) {
    // Neither is configured at all: one short entry, so the whole message stays readable.
    tried.push(`resource principal and OKE workload identity (${rp.reason})`);
  } else tried.push(`resource principal (${rp.reason})`, `OKE workload identity (${oke.reason})`);

  return { kind: "instance_principal", metadataUrl: metadataBaseUrl(env), automatic: true, tried };
}

function explicitPlan(kind: AuthKind, settings: OciSettings, env: Env): NodePlan {
  switch (kind) {
    case "api_key":
    case "session_token": {
      const found = fromConfigFile(settings, env, kind);
      if ("plan" in found) return found.plan;
      throw new ProviderError(`no OCI identity found: ${found.why}`);
    }
    case "instance_principal":
      return { kind, metadataUrl: metadataBaseUrl(env), automatic: false, tried: [] };
    case "resource_principal": {
      const rp = resourcePrincipalEnv(env);
      if (!rp.ok) throw new ProviderError(`auth is resource_principal but ${rp.reason}`);
      return { kind, version: rp.version };
    }
    case "oke_workload_identity":
      return { kind, tokenPath: serviceAccountTokenFile(env) };
  }
}

/**
 * The profile of the configuration file, as an API-key or session-token plan;
 * or why not. `want` forces the kind (explicit auth) and turns a profile of the
 * other kind into an error.
 */
function fromConfigFile(
  settings: OciSettings,
  env: Env,
  want: "api_key" | "session_token" | null,
): { plan: NodePlan } | { why: string } {
  const where = locateConfig(settings.configFile, env);
  const profile = chooseProfile(settings.profile, env);
  const label = want === "session_token" ? "session token" : want === "api_key" ? "API key" : "API key or session token";
  if (!existsSync(where.path)) {
    const why = `${label} (${where.path}, from ${where.source}: no such file)`;
    // A file the user named is a mistake to report, not a reason to look elsewhere.
    if (where.explicit && want === null)
      throw new ProviderError(`OCI configuration file ${where.path} (from ${where.source}) does not exist`);
    return { why };
  }
  let values: Map<string, string> | null;
  try {
    values = profileSettings(readOciConfig(where.path), profile.name);
  } catch (err) {
    const reason = err instanceof OciConfigError ? err.message : `cannot read ${where.path}`;
    throw new ProviderError(`OCI configuration file: ${reason}`);
  }
  if (values === null) {
    const why = `${label} (${where.path} has no profile [${profile.name}])`;
    if (profile.explicit || want !== null) throw new ProviderError(`${where.path} has no profile [${profile.name}]`);
    return { why };
  }
  const kind = values.has("security_token_file") ? "session_token" : "api_key";
  if (want !== null && want !== kind) {
    const has = kind === "session_token" ? "has security_token_file (a session token)" : "has no security_token_file";
    throw new ProviderError(`auth is ${want} but profile [${profile.name}] of ${where.path} ${has}`);
  }
  const required =
    kind === "session_token" ? ["tenancy", "key_file", "security_token_file"] : ["tenancy", "user", "fingerprint", "key_file"];
  const missing = required.filter((k) => !values.get(k));
  if (missing.length > 0) {
    throw new ProviderError(`profile [${profile.name}] of ${where.path} lacks ${missing.join(", ")}`);
  }
  return { plan: { kind, configPath: where.path, profile: profile.name, values } };
}

/** A short stable description of who signs: part of the cache key, and shown in messages. No secret. */
export function describePlan(plan: NodePlan, env: Env): string {
  switch (plan.kind) {
    case "api_key":
      return `api_key:${plan.configPath}[${plan.profile}]:${plan.values.get("user")}:${plan.values.get("fingerprint")}`;
    case "session_token":
      // Who the session is for: `oci session authenticate` may log another user into the same profile.
      return `session_token:${plan.configPath}[${plan.profile}]:${plan.values.get("tenancy")}:${principalOf(plan.values.get("security_token_file") ?? "")}`;
    case "instance_principal":
      return plan.metadataUrl === metadataBaseUrl({}) ? "instance_principal" : `instance_principal:${plan.metadataUrl}`;
    case "resource_principal":
      return plan.version === "2.2"
        ? `resource_principal:${env.OCI_RESOURCE_PRINCIPAL_REGION ?? ""}:${principalOf(env.OCI_RESOURCE_PRINCIPAL_RPST ?? "")}`
        : // 1.1: the token service and the resource it names (the instance's own id when unset).
          `resource_principal_1.1:${env.OCI_RESOURCE_PRINCIPAL_RPT_ENDPOINT ?? ""}${env.OCI_RESOURCE_PRINCIPAL_RPT_PATH ?? ""}:${env.OCI_RESOURCE_PRINCIPAL_RPT_ID ?? "instance"}:${metadataBaseUrl(env)}`;
    case "oke_workload_identity":
      return `oke_workload_identity:${serviceAccountOf(plan.tokenPath)}`;
  }
}

/**
 * Which principal a session token (the value itself, or an absolute path to
 * it) stands for: a short hash of its `sub`, stable while the token rotates;
 * of the token itself when it has none; of the path when it cannot be read
 * (the fetch then says why). Never the token.
 */
function principalOf(valueOrPath: string): string {
  let token = valueOrPath;
  if (valueOrPath.startsWith("/")) {
    try {
      token = readFileSync(valueOrPath, "utf8").slice(0, 64 * 1024).trim();
    } catch {
      return shortHash(`path:${valueOrPath}`);
    }
  }
  const subject = jwtStringClaim(token.replace(/^ST\$/, ""), "sub");
  return shortHash(subject === null ? `token:${token}` : `sub:${subject}`);
}

/** The pod's service account (the token's `sub`), read but never verified or kept. */
function serviceAccountOf(path: string): string {
  try {
    return jwtStringClaim(readFileSync(path, "utf8").trim(), "sub") ?? "";
  } catch {
    return "";
  }
}

/** For messages: what a person would call this identity. */
export function planTitle(plan: NodePlan): string {
  switch (plan.kind) {
    case "api_key":
      return `the API key of profile [${plan.profile}] in ${plan.configPath} (user ${plan.values.get("user")})`;
    case "session_token":
      return `the session token of profile [${plan.profile}] in ${plan.configPath}`;
    case "instance_principal":
      return "the instance principal";
    case "resource_principal":
      return `the resource principal (version ${plan.version})`;
    case "oke_workload_identity":
      return "the pod's OKE workload identity";
  }
}
