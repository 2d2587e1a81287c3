// Where things live: the configuration file, saved logins and the token
// cache, from the environment (env-paths for the platform defaults).

import { join } from "node:path";
import envPaths from "env-paths";
import { ConfigError, EMPTY_CONFIG, parseConfig, type Config } from "./config.ts";
import { readTrusted, type TrustedRead } from "./trust.ts";
import { parseBoolean, type Provider } from "./provider.ts";

export const APP_NAME = "cloud-credential-helpers";

export type Env = Readonly<Record<string, string | undefined>>;

export interface Paths {
  configDir: string;
  configFile: string;
  cacheDir: string;
}

export function resolvePaths(env: Env, provider: Provider): Paths {
  const defaults = envPaths(APP_NAME, { suffix: "" });
  const configDir = env.CCH_CONFIG_DIR || defaults.config;
  const override = provider.cacheOverrides?.(env) ?? {};
  return {
    configDir,
    configFile: env.CCH_CONFIG || join(configDir, "config.json"),
    cacheDir: env.CCH_CACHE_DIR || override.dir || defaults.cache,
  };
}

export function cacheDisabled(env: Env, provider: Provider): boolean {
  return parseBoolean(env.CCH_DISABLE_CACHE) || provider.cacheOverrides?.(env).disabled === true;
}

/**
 * Reads and parses the configuration file. One another user could write
 * (it may point endpoints at their server) is a ConfigError. A symbolic
 * link is followed (a mounted ConfigMap is one); the file it names is checked.
 */
export function loadConfig(path: string): Config {
  let read: TrustedRead;
  try {
    read = readTrusted(path, { follow: true });
  } catch (err) {
    throw new ConfigError(`configuration file ${path}: cannot be read (${(err as Error).message})`);
  }
  if ("missing" in read) return { ...EMPTY_CONFIG, path };
  if ("untrusted" in read) throw new ConfigError(`configuration file ${path} ${read.untrusted}; not used`);
  return parseConfig(read.text, path);
}
