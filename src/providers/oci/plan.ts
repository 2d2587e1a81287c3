// Which OCI identity signs the token request: the one the configuration names,
// or the first found in the automatic order. Decided without the SDK and
// without the network, because `identity()` runs on every `get` (it keys the
// cache) and must agree with what `fetch` will use.
//
// Automatic order: local and explicit first, the network probe last.
//   1. the OCI configuration file's profile: API key, or session token when the
//      profile has security_token_file (what `oci session authenticate` writes);
//   2. resource principal, when OCI_RESOURCE_PRINCIPAL_VERSION is set (Functions,
//      jobs: the platform sets it on purpose);
//   3. OKE workload identity, when KUBERNETES_SERVICE_HOST and
//      KUBERNETES_SERVICE_PORT_PROXYMUX (or CCH_OCI_PROXYMUX_URL) are set and a
//      service account token is mounted (a pod in an enhanced cluster);
//   4. instance principal: asks the instance metadata service, so it is tried
//      last; when that does not answer, the error lists all that was tried.

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
  | { kind: "resource_principal" }
  | { kind: "oke_workload_identity"; tokenPath: string };

export function choosePlan(settings: OciSettings, env: Env): NodePlan {
  if (settings.auth !== null) return explicitPlan(settings.auth, settings, env);
  const tried: string[] = [];

  const config = fromConfigFile(settings, env, null);
  if ("plan" in config) return config.plan;
  tried.push(config.why);

  if (env.OCI_RESOURCE_PRINCIPAL_VERSION) return { kind: "resource_principal" };
  tried.push("resource principal (OCI_RESOURCE_PRINCIPAL_VERSION is not set)");

  // The token file too: a node whose kubelet configuration sets the proxymux
  // for pods' tokens has none, and must go on to its own instance principal.
  const tokenPath = serviceAccountTokenFile(env);
  const proxymux = (env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT_PROXYMUX) || env.CCH_OCI_PROXYMUX_URL;
  if (proxymux && existsSync(tokenPath)) return { kind: "oke_workload_identity", tokenPath };
  tried.push(
    proxymux
      ? `OKE workload identity (no service account token at ${tokenPath})`
      : "OKE workload identity (KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT_PROXYMUX are not set)",
  );

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
    case "resource_principal":
      return { kind };
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
      return `session_token:${plan.configPath}[${plan.profile}]:${plan.values.get("tenancy")}`;
    case "instance_principal":
      return plan.metadataUrl === metadataBaseUrl({}) ? "instance_principal" : `instance_principal:${plan.metadataUrl}`;
    case "resource_principal":
      return `resource_principal:${env.OCI_RESOURCE_PRINCIPAL_REGION ?? ""}`;
    case "oke_workload_identity":
      return `oke_workload_identity:${serviceAccountOf(plan.tokenPath)}`;
  }
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
      return "the resource principal";
    case "oke_workload_identity":
      return "the pod's OKE workload identity";
  }
}
