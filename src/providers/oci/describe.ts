// `doctor`: which OCI identities exist here and which one a fetch would use.
// Local checks (files, environment) plus one short, bounded probe of the
// instance metadata service; never a token request, never a secret (OCIDs,
// fingerprints, paths and region names are not secrets; key material, session
// tokens and service account tokens are never read into the report).

import { jwtStringClaim } from "../../jwt.ts";
import { existsSync, readFileSync } from "node:fs";
import type { Context, IdentityReport, IdentitySource, Target } from "../../provider.ts";
import { chooseProfile, expandHome, locateConfig, profileSettings, readOciConfig } from "./config-file.ts";
import type { OcirHost } from "./hosts.ts";
import { choosePlan, okeWorkloadEnv, resourcePrincipalEnv, type NodePlan, type OciPlan } from "./plan.ts";
import { metadataWaitCapMs } from "./platform.ts";
import { metadataBaseUrl, proxymuxUrl, readSettings, type OciSettings } from "./settings.ts";
import { readCapped } from "../../body.ts";

export const SOURCE = {
  config: "OCI configuration file",
  resource: "resource principal",
  oke: "OKE workload identity",
  instance: "instance principal",
} as const;

type Env = Context["env"];

/**
 * Every OCI identity source and whether it is here; `used` is the one the
 * plan chose. Without a plan (none could be made: doctor still lists what it
 * looked at) the same choice is attempted here to say why.
 */
export async function describeOciIdentity(target: Target<OcirHost>, ctx: Context, given?: OciPlan): Promise<IdentityReport> {
  const env = ctx.env;
  let settings: OciSettings;
  try {
    settings = readSettings(target.settings, env);
  } catch (err) {
    return { sources: [{ name: "configuration", found: false, detail: message(err) }], used: null };
  }
  const sources: IdentitySource[] = [configSource(settings, env), resourceSource(env), okeSource(env), await instanceSource(ctx)];
  let plan: NodePlan | null = given?.kind === "node" ? given.node : null;
  let why = "";
  if (plan === null) {
    try {
      plan = choosePlan(settings, env);
    } catch (err) {
      why = message(err);
    }
  }
  const used = plan === null ? null : sourceOf(plan);
  if (plan === null && why) sources[0] = { ...sources[0]!, detail: `${sources[0]!.detail}; ${why}` };
  // Chosen but absent (e.g. the metadata service did not answer): no fetch would succeed.
  const found = sources.find((s) => s.name === used)?.found ?? false;
  return { sources, used: found ? used : null };
}

function sourceOf(plan: NodePlan): string {
  switch (plan.kind) {
    case "api_key":
    case "session_token":
      return SOURCE.config;
    case "resource_principal":
      return SOURCE.resource;
    case "oke_workload_identity":
      return SOURCE.oke;
    case "instance_principal":
      return SOURCE.instance;
  }
}

function configSource(settings: OciSettings, env: Env): IdentitySource {
  const where = locateConfig(settings.configFile, env);
  const profile = chooseProfile(settings.profile, env).name;
  const no = (detail: string): IdentitySource => ({ name: SOURCE.config, found: false, detail });
  if (!existsSync(where.path)) return no(`${where.path} (from ${where.source}): no such file`);
  let values: Map<string, string> | null;
  try {
    values = profileSettings(readOciConfig(where.path), profile);
  } catch (err) {
    return no(`${where.path}: ${message(err)}`);
  }
  if (values === null) return no(`${where.path} has no profile [${profile}]`);
  const session = values.has("security_token_file");
  const files = session ? ["key_file", "security_token_file"] : ["key_file"];
  const missing = files.filter((k) => !values.get(k) || !existsSync(expandHome(values.get(k)!, env.HOME)));
  const facts = [
    session ? "session token" : "API key",
    ...["user", "tenancy", "region", "fingerprint"].filter((k) => values.get(k)).map((k) => `${k} ${values.get(k)}`),
    ...files.filter((k) => values.get(k)).map((k) => `${k} ${expandHome(values.get(k)!, env.HOME)}`),
  ];
  const detail = `profile [${profile}] in ${where.path}: ${facts.join(", ")}`;
  if (missing.length > 0) return no(`${detail}; missing: ${missing.join(", ")}`);
  return { name: SOURCE.config, found: true, detail };
}

function resourceSource(env: Env): IdentitySource {
  const rp = resourcePrincipalEnv(env);
  if (!rp.ok) return { name: SOURCE.resource, found: false, detail: rp.reason };
  const region = env.OCI_RESOURCE_PRINCIPAL_REGION;
  const where = rp.version === "1.1" ? `, token service ${env.OCI_RESOURCE_PRINCIPAL_RPT_ENDPOINT}` : "";
  return { name: SOURCE.resource, found: true, detail: `version ${rp.version}${region ? `, region ${region}` : ""}${where}` };
}

function okeSource(env: Env): IdentitySource {
  const oke = okeWorkloadEnv(env);
  if (!oke.ok) return { name: SOURCE.oke, found: false, detail: oke.reason };
  let endpoint: ReturnType<typeof proxymuxUrl>;
  try {
    endpoint = proxymuxUrl(env);
  } catch (err) {
    return { name: SOURCE.oke, found: false, detail: message(err) };
  }
  if (!endpoint.ok) return { name: SOURCE.oke, found: false, detail: endpoint.reason };
  const sa = subjectOf(oke.tokenPath);
  return {
    name: SOURCE.oke,
    found: true,
    detail: `proxymux ${endpoint.url}, token ${oke.tokenPath}${sa ? ` (${sa})` : ""}`,
  };
}

/** The token's `sub` (system:serviceaccount:<ns>:<name>): who, not the token. */
function subjectOf(path: string): string {
  try {
    const sub = jwtStringClaim(readFileSync(path, "utf8").trim(), "sub");
    return sub !== null && /^[\w:.-]{1,300}$/.test(sub) ? sub : "";
  } catch {
    return "";
  }
}

async function instanceSource(ctx: Context): Promise<IdentitySource> {
  const url = metadataBaseUrl(ctx.env) + "instance/region";
  // Off OCI a short probe, as the automatic order makes it; on OCI up to the deadline.
  const limit = Math.min(metadataWaitCapMs(true), ctx.deadline - ctx.now().getTime());
  if (limit <= 0) return { name: SOURCE.instance, found: false, detail: "not checked (no time left)" };
  try {
    const res = await fetch(url, {
      headers: { authorization: "Bearer Oracle" },
      signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(limit)]),
      redirect: "manual",
    });
    const text = (await readCapped(res)).trim().toLowerCase();
    if (res.status !== 200 || !/^[a-z0-9-]{2,64}$/.test(text)) {
      return { name: SOURCE.instance, found: false, detail: `${url} answered HTTP ${res.status} without a region` };
    }
    return { name: SOURCE.instance, found: true, detail: `instance metadata at ${url}: region ${text}` };
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === "AbortError" || err.name === "TimeoutError");
    return {
      name: SOURCE.instance,
      found: false,
      detail: timedOut ? `no instance metadata service answered at ${url} within ${limit / 1000}s` : `${url} is unreachable`,
    };
  }
}

function message(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/\s+/g, " ").trim();
}
