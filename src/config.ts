// The configuration file: per-registry settings that providers extend.
//
//   {
//     "timeoutSeconds": 10,
//     "registries": {
//       "registry.internal:5000": { "alias": "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "profile": "prod" }
//     }
//   }
//
// `alias` declares a host (PrivateLink name, custom DNS, pull-through proxy,
// a test registry on 127.0.0.1) as standing for a given cloud registry: the
// provider matches the alias, and the credential goes to the declared host,
// because the user said so. Parsing is pure; reading the file is the caller's.

import { isHostname, parseAuthority } from "./registry.ts";
import { isPlainObject, readJsonObject } from "./json.ts";

export type SettingValue = string | number | boolean | string[];
export interface RegistrySettings {
  readonly alias?: string;
  readonly [key: string]: SettingValue | undefined;
}

export interface Config {
  /** Where it came from, for messages. */
  path: string | null;
  timeoutSeconds: number | null;
  registries: ReadonlyMap<string, RegistrySettings>;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

export const EMPTY_CONFIG: Config = { path: null, timeoutSeconds: null, registries: new Map() };
const TOP_LEVEL_KEYS = new Set(["$schema", "timeoutSeconds", "registries"]);
export const MAX_CONFIG_BYTES = 1 << 20;

export function parseConfig(text: string, path: string): Config {
  const fail = (problem: string): never => {
    throw new ConfigError(`configuration file ${path}: ${problem}`);
  };
  if (text.length > MAX_CONFIG_BYTES) fail("larger than 1 MiB");
  if (text.trim() === "") return { ...EMPTY_CONFIG, path };

  const read = readJsonObject(text);
  if (!read.ok) return fail(read.problem === "not valid JSON" ? `not valid JSON (${read.detail})` : "must be a JSON object");
  const data = read.value;

  for (const key of Object.keys(data)) {
    if (!TOP_LEVEL_KEYS.has(key)) fail(`unknown key "${key}" (expected ${[...TOP_LEVEL_KEYS].join(", ")})`);
  }

  let timeoutSeconds: number | null = null;
  if (data.timeoutSeconds !== undefined) {
    const t = data.timeoutSeconds;
    if (!isTimeoutSeconds(t)) fail(`timeoutSeconds must be a number of seconds between 0 and ${MAX_TIMEOUT_SECONDS}`);
    timeoutSeconds = t as number;
  }

  const registries = new Map<string, RegistrySettings>();
  if (data.registries !== undefined) {
    if (!isPlainObject(data.registries)) fail(`"registries" must be an object keyed by registry host`);
    for (const [rawHost, value] of Object.entries(data.registries as Record<string, unknown>)) {
      const parsed = parseAuthority(rawHost);
      if (!parsed.ok) fail(`registry "${rawHost}": ${parsed.reason}`);
      const where = `registry "${rawHost}"`;
      if (!isPlainObject(value)) fail(`${where} must map to an object of settings`);
      const settings: Record<string, SettingValue> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (!isSettingValue(v)) fail(`${where}: "${k}" must be a string, number, boolean or list of strings`);
        settings[k] = v as SettingValue;
      }
      if (settings.alias !== undefined) {
        if (typeof settings.alias !== "string" || !isHostname(settings.alias.toLowerCase())) {
          fail(`${where}: "alias" must be a registry host name such as 123456789012.dkr.ecr.us-east-1.amazonaws.com`);
        }
        settings.alias = (settings.alias as string).toLowerCase();
      }
      const key = parsed.ok ? parsed.host.key : rawHost;
      if (registries.has(key)) fail(`${where} is listed twice`);
      registries.set(key, settings);
    }
  }
  return { path, timeoutSeconds, registries };
}

/** Checks a registry's settings against the keys its provider knows; throws ConfigError. */
export function checkSettingsKeys(config: Config, host: string, settings: RegistrySettings, known: readonly string[]): void {
  const allowed = new Set(["alias", ...known]);
  for (const key of Object.keys(settings)) {
    if (!allowed.has(key)) {
      throw new ConfigError(
        `configuration file ${config.path ?? "(none)"}: registry "${host}": unknown setting "${key}" (known: ${[...allowed].join(", ")})`,
      );
    }
  }
}

export const MAX_TIMEOUT_SECONDS = 600;

/** A deadline in seconds, from the file or CCH_TIMEOUT: above 0, at most 600 (longer overflows timers). */
export function isTimeoutSeconds(t: unknown): t is number {
  return typeof t === "number" && Number.isFinite(t) && t > 0 && t <= MAX_TIMEOUT_SECONDS;
}

/** A value from the user, JSON-quoted and cut to a length safe to echo in a one-line message. */
export function quoteShort(value: unknown, max = 64): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}


function isSettingValue(v: unknown): boolean {
  if (typeof v === "string" || typeof v === "boolean") return true;
  if (typeof v === "number") return Number.isFinite(v);
  return Array.isArray(v) && v.every((x) => typeof x === "string");
}
