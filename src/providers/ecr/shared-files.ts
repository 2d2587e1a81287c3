// The AWS shared config and credentials files, read the way the AWS CLI
// reads them (docs/providers/ecr.md, "Shared files"): INI sections, keys
// lower-cased, `[profile name]` and `[default]` in the config file, any
// section name in the credentials file, and a merged view of one profile in
// which the credentials file's keys win. Pure and cheap: no SDK.

import { join } from "node:path";
import { readTextOrNull } from "../../fsutil.ts";
import { ProviderError, type Context } from "../../provider.ts";

export type Section = Readonly<Record<string, string>>;

export interface SharedFiles {
  configPath: string;
  credentialsPath: string;
  /** Profiles of the config file (`[default]`, `[profile x]`). */
  config: ReadonlyMap<string, Section>;
  /** `[sso-session x]` sections of the config file. */
  ssoSessions: ReadonlyMap<string, Section>;
  /** Every section of the credentials file. */
  credentials: ReadonlyMap<string, Section>;
}

export function sharedFilePaths(env: Context["env"]): { configPath: string; credentialsPath: string } {
  const home = env.HOME || env.USERPROFILE || "";
  return {
    configPath: expandHome(env.AWS_CONFIG_FILE || join(home, ".aws", "config"), home),
    credentialsPath: expandHome(env.AWS_SHARED_CREDENTIALS_FILE || join(home, ".aws", "credentials"), home),
  };
}

function expandHome(path: string, home: string): string {
  return (path === "~" || path.startsWith("~/")) && home ? join(home, path.slice(1)) : path;
}

export function readSharedFiles(env: Context["env"]): SharedFiles {
  const { configPath, credentialsPath } = sharedFilePaths(env);
  const config = new Map<string, Section>();
  const ssoSessions = new Map<string, Section>();
  for (const [name, section] of parseIni(readTextOrNull(configPath) ?? "", configPath)) {
    if (name === "default") config.set("default", section);
    const words = /^(profile|sso-session)\s+(.+)$/.exec(name);
    if (words === null) continue;
    const value = unquote(words[2]!.trim());
    if (value === null) continue;
    (words[1] === "profile" ? config : ssoSessions).set(value, section);
  }
  return { configPath, credentialsPath, config, ssoSessions, credentials: parseIni(readTextOrNull(credentialsPath) ?? "", credentialsPath) };
}

/** A section name's second word: one word, or one quoted string (the CLI splits it like a shell). */
function unquote(text: string): string | null {
  const quoted = /^"([^"]*)"$|^'([^']*)'$/.exec(text);
  if (quoted) return quoted[1] ?? quoted[2]!;
  return /\s|["']/.test(text) ? null : text;
}

/** Whether the profile exists in either file (the CLI's test before anything else). */
export function hasProfile(files: SharedFiles, profile: string): boolean {
  return files.config.has(profile) || files.credentials.has(profile);
}

/** The profile as the CLI sees it for roles, web identity, SSO and credential_process: config, then the credentials file's keys over it. */
export function mergedProfile(files: SharedFiles, profile: string): Section {
  return { ...files.config.get(profile), ...files.credentials.get(profile) };
}

/**
 * INI as Python's configparser reads it: `[section]`, `key = value` or
 * `key: value`, whole-line comments with # or ;, indented lines continue a
 * value (nested settings such as `s3 =`). Keys are lower-cased. A repeated
 * section or key is an error, as for the CLI.
 */
export function parseIni(text: string, path: string): Map<string, Section> {
  const out = new Map<string, Record<string, string>>();
  let current: Record<string, string> | null = null;
  let lastKey: string | null = null;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    if (/^\s/.test(raw) && current !== null && lastKey !== null) {
      current[lastKey] = `${current[lastKey]}\n${line}`;
      continue;
    }
    const header = /^\[([^\]]*)\]/.exec(line);
    if (header) {
      const name = header[1]!.trim();
      if (out.has(name)) throw new ProviderError(`${path} line ${i + 1}: the section [${name}] appears twice`);
      current = {};
      out.set(name, current);
      lastKey = null;
      continue;
    }
    const kv = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(line);
    if (current === null || kv === null) {
      throw new ProviderError(`${path} line ${i + 1}: expected [section] or key = value`);
    }
    const key = kv[1]!.toLowerCase();
    if (Object.hasOwn(current, key)) throw new ProviderError(`${path} line ${i + 1}: the key ${key} appears twice in its section`);
    current[key] = kv[2]!;
    lastKey = key;
  }
  return out as Map<string, Section>;
}
