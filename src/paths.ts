// Where things live: the configuration file, saved logins and the token
// cache, from the environment (env-paths for the platform defaults).

import { join } from "node:path";
import envPaths from "env-paths";
import { EMPTY_CONFIG, parseConfig, type Config } from "./config.ts";
import { readTextOrNull } from "./fsutil.ts";
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

export function loadConfig(path: string): Config {
  const text = readTextOrNull(path);
  return text === null ? { ...EMPTY_CONFIG, path } : parseConfig(text, path);
}
