// `<helper> configure-docker [a,b] [--registries=a,b] [--<optional list>] [--dry-run]`:
// adds `credHelpers` entries for this helper to $DOCKER_CONFIG/config.json
// (default ~/.docker/config.json). Every other key and entry is kept as it
// was; the file is replaced atomically with its mode kept; a file that is not
// valid JSON is refused and left untouched (upstream's Go loader would fail
// the same way, but docker's writer also drops keys it does not know).
//
// Generic over providers: the registries come from the provider's
// `defaultRegistries`, and a provider may offer extra lists behind flags
// (gcr: `--include-artifact-registry`). A named registry goes to the helper
// whose cloud serves it (so one command wires ECR, GCR, ACR and OCIR hosts
// alike); a host no cloud serves (a login-only registry) goes to this helper.
// `--containers` also writes the entries into podman/skopeo/buildah's auth.json.

import { realpathSync, statSync } from "node:fs";
import { isPlainObject, parseJsonObject } from "../json.ts";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import { isErrno, readTextOrNull, writeFileAtomic } from "../fsutil.ts";
import { parseServerUrl, type RegistryHost } from "../registry.ts";
import type { Config } from "../config.ts";
import { loadConfig, resolvePaths } from "../paths.ts";
import { targetFor } from "../resolve.ts";
import { loadAllProviders } from "../providers/index.ts";
import type { CommandIo, Provider, Subcommand } from "../provider.ts";

interface Parsed {
  registries: string[] | null;
  optional: string[];
  dryRun: boolean;
  help: boolean;
  containers: boolean;
}

class UsageError extends Error {}

/** The provider's manifest may add lists behind flags (gcr: `--include-artifact-registry`). */
export const configureDockerSubcommand: Subcommand = async (args, io) => {
  const optional = io.provider.manifest.optionalRegistries ?? {};
  let parsed: Parsed;
  try {
    parsed = parseArgs(args, Object.keys(optional));
  } catch (err) {
    io.stderr(`${io.helperName} configure-docker: ${(err as Error).message}\n${usage(io.helperName, optional)}`);
    return 1;
  }
  if (parsed.help) {
    io.stdout(usage(io.helperName, optional));
    return 0;
  }
  return configureDocker(parsed, optional, io, await loadAllProviders());
};

function usage(helperName: string, optional: Readonly<Record<string, readonly string[]>>): string {
  const flags = Object.keys(optional)
    .map((f) => ` [--${f}]`)
    .join("");
  return `Usage: ${helperName} configure-docker [host[,host…]] [--registries=host[,host…]]${flags} [--containers] [--dry-run] [--overwrite]
       (also: ${helperName} configure docker …)

Adds credHelpers entries to $DOCKER_CONFIG/config.json (default ~/.docker/config.json);
with --containers also to podman/skopeo/buildah's auth.json ($REGISTRY_AUTH_FILE,
default $XDG_RUNTIME_DIR/containers/auth.json). Each named registry goes to the helper
whose cloud serves it; other hosts go to ${helperName}. With no host named, the
helper's default registries. Entries already there for these hosts are replaced
(--overwrite is accepted, as docker-credential-gcr accepts it, and changes nothing).
`;
}

function parseArgs(args: string[], optionalFlags: string[]): Parsed {
  const out: Parsed = { registries: null, optional: [], dryRun: false, help: false, containers: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--help" || arg === "-h") out.help = true;
    else if (arg === "--dry-run") out.dryRun = true;
    else if (arg === "--containers") out.containers = true;
    // Accepted as docker-credential-gcr accepts it; named entries are always replaced, as there.
    else if (arg === "--overwrite") continue;
    else if (arg === "--registries" || arg.startsWith("--registries=")) {
      const value = arg === "--registries" ? args[++i] : arg.slice("--registries=".length);
      if (value === undefined) throw new UsageError("--registries needs a value");
      out.registries = [...(out.registries ?? []), ...hostList(value, "--registries")];
    } else if (arg.startsWith("--") && optionalFlags.includes(arg.slice(2))) out.optional.push(arg.slice(2));
    // gcloud's spelling: `gcloud auth configure-docker us-docker.pkg.dev,europe-docker.pkg.dev`.
    else if (!arg.startsWith("-")) out.registries = [...(out.registries ?? []), ...hostList(arg, "the registry list")];
    else throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
  }
  return out;
}

function hostList(value: string, what: string): string[] {
  const list = value
    .split(",")
    .map((r) => r.trim())
    .filter((r) => r !== "");
  if (list.length === 0) throw new UsageError(`${what} needs at least one host`);
  return list;
}

function dockerConfigFile(env: CommandIo["env"]): string {
  if (env.DOCKER_CONFIG) return join(env.DOCKER_CONFIG, "config.json");
  return join(env.HOME || homedir(), ".docker", "config.json");
}

/** containers/image's default auth file (podman, skopeo, buildah). */
function containersAuthFile(env: CommandIo["env"]): string {
  if (env.REGISTRY_AUTH_FILE) return env.REGISTRY_AUTH_FILE;
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, "containers", "auth.json");
  return join(env.HOME || homedir(), ".config", "containers", "auth.json");
}

/**
 * The helper (binary suffix) whose provider serves `host`, after configuration
 * aliases; null when none does. Throws ConfigError when the serving
 * provider's settings for the host are wrong: that is reported, never turned
 * into another helper's entry.
 */
function servingHelper(host: RegistryHost, config: Config, providers: readonly Provider[]): string | null {
  for (const provider of providers) {
    if (targetFor(host, provider, config) !== null) return provider.manifest.name;
  }
  return null;
}

function configureDocker(
  parsed: Parsed,
  optional: Readonly<Record<string, readonly string[]>>,
  io: CommandIo,
  providers: readonly Provider[],
): number {
  const fail = (message: string): number => {
    io.stderr(`${io.helperName} configure-docker: ${message}\n`);
    return 1;
  };
  const self = io.helperName.replace(/^docker-credential-/, "");

  // As upstream: the optional lists come in addition to the named (or default) registries.
  const requested = [
    ...(parsed.registries ?? io.provider.manifest.defaultRegistries),
    ...parsed.optional.flatMap((flag) => optional[flag] ?? []),
  ];
  let config: Config;
  try {
    config = loadConfig(resolvePaths(io.env, io.provider.manifest).configFile);
  } catch (err) {
    return fail((err as Error).message);
  }
  const wanted = new Map<string, string>();
  for (const raw of requested) {
    const host = parseServerUrl(raw);
    if (!host.ok) return fail(`${JSON.stringify(raw)} is not a registry host: ${host.reason}`);
    if (wanted.has(host.host.key)) continue;
    try {
      wanted.set(host.host.key, servingHelper(host.host, config, providers) ?? self);
    } catch (err) {
      return fail(`${(err as Error).message}. Nothing was changed.`);
    }
  }
  if (wanted.size === 0) return fail("no registries to configure: name them with --registries=host,host");

  const files = [dockerConfigFile(io.env), ...(parsed.containers ? [containersAuthFile(io.env)] : [])];
  for (const file of files) {
    const code = updateFile(resolveSymlink(file), wanted, parsed.dryRun, io, fail);
    if (code !== 0) return code;
  }
  warnIfNotOnPath(io, new Set(wanted.values()));
  return 0;
}

function updateFile(
  path: string,
  wanted: ReadonlyMap<string, string>,
  dryRun: boolean,
  io: CommandIo,
  fail: (message: string) => number,
): number {
  let text: string | null;
  try {
    text = readTextOrNull(path);
  } catch (err) {
    return fail(`cannot read ${path}: ${(err as Error).message}`);
  }
  let config: Record<string, unknown> = {};
  if (text !== null && text.trim() !== "") {
    try {
      config = parseJsonObject(text);
    } catch (err) {
      return fail(`${path} is ${(err as Error).message}; fix or move it and run this again. Nothing was changed.`);
    }
  }
  const existing = config.credHelpers ?? {};
  if (!isPlainObject(existing) || !Object.values(existing).every((v) => typeof v === "string")) {
    return fail(`"credHelpers" in ${path} is not an object of host → helper names. Nothing was changed.`);
  }

  const credHelpers: Record<string, unknown> = { ...existing };
  const changes: string[] = [];
  for (const [host, helper] of wanted) {
    const before = credHelpers[host];
    if (before === helper) continue;
    credHelpers[host] = helper;
    const label = `${host} → ${helper}`;
    changes.push(before === undefined ? label : `${label} (was ${String(before)})`);
  }
  if (changes.length === 0) {
    io.stdout(`${path} already has these credHelpers: ${[...wanted].map(([h, n]) => `${h} → ${n}`).join(", ")}\n`);
    return 0;
  }

  const updated = JSON.stringify({ ...config, credHelpers }, null, "\t") + "\n";
  if (dryRun) {
    io.stdout(`Would set credHelpers in ${path}: ${changes.join(", ")}\n${updated}`);
    return 0;
  }
  try {
    replaceFile(path, updated);
  } catch (err) {
    return fail(`cannot write ${path}: ${(err as Error).message}`);
  }
  io.stdout(`${path}: credHelpers ${changes.join(", ")}\n`);
  return 0;
}


/** Write through a symlinked config.json (dotfile managers) instead of replacing the link. */
function resolveSymlink(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/**
 * Atomic replacement with the old file's mode (0600 for a new one), in a
 * directory whose mode the user chose (DOCKER_CONFIG): not forced to 0700.
 */
function replaceFile(path: string, data: string): void {
  let mode = 0o600;
  try {
    mode = statSync(path).mode & 0o777;
  } catch (err) {
    if (!isErrno(err, "ENOENT")) throw err;
  }
  writeFileAtomic(path, data, { mode, privateDir: false });
}

/** docker runs `docker-credential-<name>` from PATH only; say so if it would not find one of ours. */
function warnIfNotOnPath(io: CommandIo, helpers: ReadonlySet<string>): void {
  const dirs = (io.env.PATH ?? "").split(delimiter).filter((d) => d !== "");
  for (const helper of helpers) {
    const name = `docker-credential-${helper}`;
    const found = dirs.some((d) => {
      try {
        return statSync(join(d, name)).isFile();
      } catch {
        return false;
      }
    });
    if (!found) io.stderr(`warning: ${name} is not on PATH; docker will not find it until it is\n`);
  }
}
