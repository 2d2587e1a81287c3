// The OCI configuration file (~/.oci/config, INI), read cheaply and without the
// SDK: `identity()` needs the profile's user and fingerprint on every `get`,
// and a person needs a precise message when a profile or key is missing.
// Semantics follow oci-common's ConfigFileReader: `[PROFILE]` sections,
// `key = value` lines, `#` comments, and a value missing from a profile is
// taken from [DEFAULT].

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const DEFAULT_PROFILE = "DEFAULT";
const MAX_CONFIG_BYTES = 1 << 20;

export interface OciConfigFile {
  path: string;
  profiles: ReadonlyMap<string, ReadonlyMap<string, string>>;
}

export class OciConfigError extends Error {}

export function parseOciConfig(text: string, path: string): OciConfigFile {
  const profiles = new Map<string, Map<string, string>>();
  let current: Map<string, string> | null = null;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    if (line.startsWith("[") && line.endsWith("]")) {
      const name = line.slice(1, -1).trim();
      if (name === "") throw new OciConfigError(`${path} line ${i + 1}: empty profile name`);
      current = profiles.get(name) ?? new Map();
      profiles.set(name, current);
      return;
    }
    const eq = line.indexOf("=");
    // Never quote the line: it could be a key or pass phrase put there by mistake.
    if (eq <= 0) throw new OciConfigError(`${path} line ${i + 1}: expected key=value`);
    if (current === null) throw new OciConfigError(`${path} line ${i + 1}: a setting before any [PROFILE]`);
    current.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  });
  return { path, profiles };
}

export function readOciConfig(path: string): OciConfigFile {
  const text = readFileSync(path, "utf8");
  if (text.length > MAX_CONFIG_BYTES) throw new OciConfigError(`${path}: larger than 1 MiB`);
  return parseOciConfig(text, path);
}

/** A profile's settings with [DEFAULT] filled in; null when the profile is absent. */
export function profileSettings(file: OciConfigFile, profile: string): Map<string, string> | null {
  const own = file.profiles.get(profile);
  if (!own) return null;
  return new Map([...(file.profiles.get(DEFAULT_PROFILE) ?? []), ...own]);
}

/** `~/x` → `$HOME/x`, as the OCI tools do; other paths are left alone. */
export function expandHome(path: string, home: string | undefined): string {
  if (home && (path === "~" || path.startsWith("~/"))) return join(home, path.slice(1));
  return path;
}

export interface ConfigLocation {
  path: string;
  /** Where the choice came from, for messages. */
  source: string;
  /** Named by the user (setting or OCI_CONFIG_FILE): a missing file is then a mistake to report. */
  explicit: boolean;
}

/**
 * The configuration file to use. An explicit choice wins: the registry's
 * `configFile` setting, then OCI_CONFIG_FILE (the SDK itself prefers an
 * existing ~/.oci/config over OCI_CONFIG_FILE, so the path is always passed to
 * it explicitly); then ~/.oci/config, then the legacy ~/.oraclebmc/config.
 */
export function locateConfig(setting: string | undefined, env: Readonly<Record<string, string | undefined>>): ConfigLocation {
  const home = env.HOME;
  if (setting) return { path: expandHome(setting, home), source: `the "configFile" setting`, explicit: true };
  if (env.OCI_CONFIG_FILE) return { path: expandHome(env.OCI_CONFIG_FILE, home), source: "OCI_CONFIG_FILE", explicit: true };
  const primary = expandHome("~/.oci/config", home);
  const legacy = expandHome("~/.oraclebmc/config", home);
  const path = !existsSync(primary) && existsSync(legacy) ? legacy : primary;
  return { path, source: "the default location", explicit: false };
}

/** The profile: the registry's `profile` setting, then OCI_CLI_PROFILE, then DEFAULT. */
export function chooseProfile(
  setting: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): { name: string; explicit: boolean } {
  if (setting) return { name: setting, explicit: true };
  if (env.OCI_CLI_PROFILE) return { name: env.OCI_CLI_PROFILE, explicit: true };
  return { name: DEFAULT_PROFILE, explicit: false };
}
