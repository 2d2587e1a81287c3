// `doctor [registry] [--json]`: for one registry host, which provider serves
// it, which identity sources exist and which one is used, whether a token can
// be had (its expiry, never the token), and whether the registry accepts it.
// Exit status 0 only when every step passed.

import { parseArgs } from "node:util";
import type { CommandIo, IdentityReport } from "../provider.ts";
import { parseServerUrl } from "../registry.ts";
import { planFor, resolveCredential, targetFor } from "../resolve.ts";
import { summarize } from "../summary.ts";
import { cacheDisabled, resolvePaths } from "../paths.ts";
import { makeContext, makeLogger } from "../context.ts";
import { CredentialStore } from "../store.ts";
import { isExpired, savedExpiry } from "../saved-token.ts";
import { TokenCache } from "../cache.ts";
import { checkRegistryAccepts } from "../registry-check.ts";
import { quoteShort } from "../config.ts";

type Status = "ok" | "fail" | "skip";
interface Step {
  step: "provider" | "identity" | "token" | "registry";
  status: Status;
  detail: string;
  advice?: string;
  sources?: IdentityReport["sources"];
}

const USAGE = (name: string) => `Usage: ${name} doctor [registry] [--json]\n`;

export async function doctor(args: string[], io: CommandIo): Promise<number> {
  let cli;
  try {
    cli = parseArgs({
      args,
      options: { json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  } catch {
    io.stderr(USAGE(io.helperName));
    return 1;
  }
  const { json = false, help = false } = cli.values;
  const positional = cli.positionals;
  if (help || positional.length > 1) {
    (help ? io.stdout : io.stderr)(USAGE(io.helperName));
    return help ? 0 : 1;
  }
  const raw = positional[0] ?? io.provider.manifest.defaultRegistries[0];
  if (!raw) {
    io.stderr(`${io.helperName} doctor: name the registry to check, e.g. ${io.helperName} doctor <registry host>\n`);
    return 1;
  }
  const parsed = parseServerUrl(raw);
  if (!parsed.ok) {
    io.stderr(`${io.helperName} doctor: ${quoteShort(withoutUserinfo(raw))} is not a registry host: ${parsed.reason}\n`);
    return 1;
  }
  const host = parsed.host;
  const steps: Step[] = [];
  const report = () => finish(io, json, host.key, steps);

  const { title } = io.provider.manifest;
  const paths = resolvePaths(io.env, io.provider.manifest);
  let ctx;
  try {
    ctx = makeContext(io.env, paths, makeLogger(io.env, io.helperName, false), { askAgain: true });
  } catch (err) {
    steps.push({ step: "provider", status: "fail", detail: summarize(err), advice: "fix the configuration file" });
    return report();
  }
  const store = new CredentialStore(paths.configDir, (m) => ctx.log.debug(m));
  let saved;
  try {
    saved = store.get(host.key);
  } catch (err) {
    steps.push({ step: "provider", status: "fail", detail: summarize(err), advice: "fix the saved credentials file" });
    return report();
  }
  const savedUntil = saved ? savedExpiry(saved, io.provider) : null;
  // A saved cloud token past its expiry is not used: the cloud identity is.
  const stored = saved && !isExpired(saved, io.provider, Date.now()) ? saved : null;

  let target;
  let anonymous = false;
  try {
    target = targetFor(host, io.provider, ctx.config);
  } catch (err) {
    steps.push({ step: "provider", status: "fail", detail: summarize(err), advice: "fix the configuration file" });
    return report();
  }
  if (target) {
    const via = target.registry === host.hostname ? "" : ` (declared in ${ctx.config.path} as ${target.registry})`;
    steps.push({ step: "provider", status: "ok", detail: `${title} serves ${host.key}${via}` });
  } else if (stored) {
    steps.push({
      step: "provider",
      status: "ok",
      detail: `${host.key} is not a ${title} host; a login saved by store is used`,
    });
  } else {
    steps.push({
      step: "provider",
      status: "fail",
      detail: `${io.helperName} does not serve ${host.key}: it answers "credentials not found", so clients pull anonymously`,
      advice: `use the helper for that registry's cloud, log in with docker login ${host.key}, or declare it with "alias" in ${ctx.config.path}`,
    });
    return report();
  }

  if (stored) {
    steps.push({
      step: "identity",
      status: "ok",
      detail:
        savedUntil === null
          ? `a login saved by docker login (user ${stored.username}) wins over the cloud identity`
          : `a token saved by docker login (user ${stored.username}) is used until ${new Date(savedUntil).toISOString()}; then the cloud identity`,
    });
  } else if (target) {
    try {
      // The same plan a get would make: doctor reports it, it does not re-derive it.
      const plan = planFor(io.provider, target, ctx);
      const identity = await io.provider.describe(target, plan, ctx);
      // Where anonymous pulls work (ECR Public), no identity is not a failure.
      const anonymousOk = !identity.used && plan.anonymousOnFailure === true;
      steps.push({
        step: "identity",
        status: identity.used ? "ok" : anonymousOk ? "skip" : "fail",
        detail: identity.used
          ? `using ${identity.used}`
          : anonymousOk
            ? "no identity found; this registry allows anonymous pulls"
            : "no identity found",
        sources: identity.sources,
        ...(identity.used ? {} : { advice: `set up one of: ${identity.sources.map((s) => s.name).join("; ")}` }),
      });
      anonymous = plan.anonymousOnFailure === true;
    } catch (err) {
      steps.push({ step: "identity", status: "fail", detail: summarize(err) });
    }
  }

  const identityStep = steps.at(-1);
  if (saved && !stored && savedUntil !== null && identityStep?.step === "identity") {
    identityStep.detail += `; the token saved by docker login (user ${saved.username}) expired ${new Date(savedUntil).toISOString()} and is not used`;
  }

  let credential;
  try {
    const cache = cacheDisabled(io.env, io.provider.manifest) ? null : TokenCache.open(paths.cacheDir, (m) => ctx.log.debug(m));
    const result = await resolveCredential(host, { provider: io.provider, store, cache, ctx });
    if (!result.found) {
      if (anonymous) {
        steps.push({ step: "token", status: "skip", detail: "no token: clients pull anonymously from this registry" });
      } else {
        steps.push({ step: "token", status: "fail", detail: "no credential (the provider answered not found)" });
      }
      return report();
    }
    credential = result.credential;
    const expires =
      result.source === "store" && savedUntil === null
        ? "no expiry (saved login)"
        : `expires ${credential.expiresAt.toISOString()} (in ${Math.round((credential.expiresAt.getTime() - Date.now()) / 60_000)} min)`;
    steps.push({
      step: "token",
      status: "ok",
      detail: `${sourceText(result.source === "store" && savedUntil !== null ? "saved-token" : result.source)} for user ${credential.username}, ${expires}`,
    });
  } catch (err) {
    steps.push({
      step: "token",
      status: "fail",
      detail: summarize(err),
      advice: "the message says which identity was tried and what refused it; run again with --verbose for the debug log",
    });
    return report();
  }

  const verdict = await checkRegistryAccepts(host, credential.username, credential.secret, ctx.signal).catch((err: unknown) => ({
    ok: false,
    detail: summarize(err),
  }));
  steps.push({
    step: "registry",
    status: verdict.ok ? "ok" : "fail",
    detail: verdict.detail,
    ...(verdict.ok
      ? {}
      : { advice: "check that this identity may pull from the registry (its role or policy), and the registry's address" }),
  });
  return report();
}

/** The argument as it may be echoed: user information (a password, perhaps) masked. */
export function withoutUserinfo(raw: string): string {
  return raw.replace(/^((?:[a-z][a-z0-9+.-]*:)?\/\/)?[^/?#]*@/i, "$1…@");
}

function sourceText(source: string): string {
  switch (source) {
    case "store":
      return "the saved login";
    case "saved-token":
      return "the token saved by docker login";
    case "cache":
      return "a cached token";
    case "stale-cache":
      return "a cached token (the refresh failed)";
    default:
      return "a new token from the cloud";
  }
}

function finish(io: CommandIo, json: boolean, registry: string, steps: Step[]): number {
  const ok = steps.length > 0 && steps.every((s) => s.status !== "fail");
  if (json) {
    io.stdout(JSON.stringify({ registry, helper: io.helperName, ok, steps }, null, 2) + "\n");
  } else {
    const mark = { ok: "✔", fail: "✘", skip: "–" } as const;
    const lines = [`${io.helperName} doctor ${registry}`];
    for (const s of steps) {
      lines.push(`  ${mark[s.status]} ${s.step.padEnd(9)}${s.detail}`);
      for (const src of s.sources ?? [])
        lines.push(`      ${src.found ? "found  " : "missing"} ${src.name}${src.detail ? `: ${src.detail}` : ""}`);
      if (s.advice) lines.push(`      → ${s.advice}`);
    }
    lines.push(ok ? "all checks passed" : "some checks failed");
    io.stdout(lines.join("\n") + "\n");
  }
  return ok ? 0 : 1;
}
