// For `doctor`: which Google identity sources exist here, and which one a
// fetch would use. Files and environment only, plus one quick probe of the
// metadata server bounded by the deadline; never a token request, never a
// secret (a key file is named by its service account, not its key).

import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import type { Context, IdentityReport, IdentitySource } from "../../provider.ts";
import { describeGcloudAccount, metadataBaseUrl, readCredentialFile, wellKnownAdcFile, type GcrPlan } from "./plan.ts";
import { checkMetadataServer, PROBE_TIMEOUT_MS } from "./metadata.ts";
import { podOptedIn, workloadConfig, WORKLOAD_ENV } from "./workload.ts";
import { readCapped } from "../../body.ts";

export const SOURCE_NAMES = {
  env: "GOOGLE_APPLICATION_CREDENTIALS",
  adcFile: "gcloud ADC file",
  metadata: "metadata server",
  gcloud: "gcloud",
  pod: "pod service account (STS token exchange)",
} as const;

export async function reportIdentity(plan: GcrPlan, ctx: Context): Promise<IdentityReport> {
  const env = ctx.env;
  const sources: IdentitySource[] = [];

  const fromEnv = env.GOOGLE_APPLICATION_CREDENTIALS;
  sources.push(
    fromEnv ? { name: SOURCE_NAMES.env, ...describeFile(fromEnv) } : { name: SOURCE_NAMES.env, found: false, detail: "not set" },
  );

  const adcFile = wellKnownAdcFile(env);
  sources.push(
    adcFile && existsSync(adcFile)
      ? { name: SOURCE_NAMES.adcFile, ...describeFile(adcFile) }
      : { name: SOURCE_NAMES.adcFile, found: false, detail: adcFile ? `${adcFile} does not exist` : "no home directory" },
  );

  sources.push(await probeMetadata(ctx));

  if (plan.kind === "node" && plan.settings.source === "gcloud") {
    const onPath = findOnPath("gcloud", env.PATH ?? "");
    sources.push({
      name: SOURCE_NAMES.gcloud,
      found: onPath !== null,
      detail: onPath ? `${onPath}, account ${describeGcloudAccount(env)}` : "configured (source: gcloud) but not on PATH",
    });
  }

  // Not a source of the node's identity: listed only when set up (or half set up),
  // so doctor's advice for a node never points at it.
  const wi = workloadConfig(env);
  const wiSet = Object.values(WORKLOAD_ENV).some((name) => (env[name] ?? "").trim() !== "");
  if (wiSet || podOptedIn(ctx.serviceAccount)) {
    sources.push({
      name: SOURCE_NAMES.pod,
      found: wi.ok,
      detail: wi.ok ? `audience ${wi.audience} at ${wi.stsEndpoint}` : wi.reason,
    });
  }

  return { sources, used: chooseUsed(sources, plan) };
}

/** The source the plan chose, when it is really there. */
function chooseUsed(sources: IdentitySource[], plan: GcrPlan): string | null {
  const found = (name: string): string | null => (sources.find((s) => s.name === name)?.found ? name : null);
  if (plan.kind === "pod") return found(SOURCE_NAMES.pod);
  const source = plan.credential;
  switch (source.kind) {
    case "gcloud":
      return found(SOURCE_NAMES.gcloud);
    case "file":
      return found(source.origin === "GOOGLE_APPLICATION_CREDENTIALS" ? SOURCE_NAMES.env : SOURCE_NAMES.adcFile);
    case "metadata":
      return found(SOURCE_NAMES.metadata);
    case "none":
      return null;
  }
}

function describeFile(path: string): { found: boolean; detail: string } {
  if (!existsSync(path)) return { found: false, detail: `${path} does not exist` };
  const json = readCredentialFile(path);
  if (json === null) return { found: false, detail: `${path} cannot be read or is not a JSON credential file` };
  const str = (key: string): string | null => (typeof json[key] === "string" ? (json[key] as string) : null);
  const type = str("type") ?? "unknown type";
  // Who, when the file says so without a secret: a service account's e-mail,
  // a federation audience, an impersonation target.
  const who =
    str("client_email") ??
    str("audience") ??
    /serviceAccounts\/([^/:]+):generateAccessToken$/.exec(str("service_account_impersonation_url") ?? "")?.[1] ??
    null;
  return { found: true, detail: `${path} (${type}${who ? `, ${who}` : ""})` };
}

async function probeMetadata(ctx: Context): Promise<IdentitySource> {
  const detection = (ctx.env.METADATA_SERVER_DETECTION ?? "").trim().toLowerCase();
  const baseUrl = metadataBaseUrl(ctx.env);
  const host = baseUrl.replace(/^https?:\/\//, "");
  if (detection === "none") return { name: SOURCE_NAMES.metadata, found: false, detail: "METADATA_SERVER_DETECTION=none" };
  const now = () => ctx.now().getTime();
  try {
    // Always a real probe here (never "assumed present"): doctor reports what answers.
    await checkMetadataServer({
      baseUrl,
      detection: "ping-only",
      onGoogleCloud: () => false,
      signal: ctx.signal,
      deadline: ctx.deadline,
      now,
    });
  } catch (err) {
    return { name: SOURCE_NAMES.metadata, found: false, detail: err instanceof Error ? err.message : String(err) };
  }
  const email = await defaultAccountEmail(baseUrl, ctx);
  return { name: SOURCE_NAMES.metadata, found: true, detail: `${host}${email ? `, ${email}` : ""}` };
}

/** The node's service account e-mail: public, and one short request. */
async function defaultAccountEmail(baseUrl: string, ctx: Context): Promise<string | null> {
  const limit = Math.max(1, Math.min(PROBE_TIMEOUT_MS, ctx.deadline - ctx.now().getTime()));
  try {
    const res = await fetch(`${baseUrl}/computeMetadata/v1/instance/service-accounts/default/email`, {
      headers: { "Metadata-Flavor": "Google" },
      signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(limit)]),
      redirect: "error",
    });
    const text = (await readCapped(res)).trim();
    return res.ok && /^[^\s@]+@[^\s@]+$/.test(text) && text.length < 320 ? text : null;
  } catch {
    return null;
  }
}

function findOnPath(command: string, path: string): string | null {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    if (existsSync(candidate)) return candidate;
  }
  return null;
}
