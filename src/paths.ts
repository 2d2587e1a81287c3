// Where things live: the configuration file, saved logins and the token
// cache, from the environment (env-paths for the platform defaults).

import { join } from "node:path";
import envPaths from "env-paths";
import { ConfigError, EMPTY_CONFIG, parseConfig, type Config } from "./config.ts";
import { readTrusted, type TrustedRead } from "./trust.ts";
import { parseBoolean, type Env } from "./env.ts";
import type { Manifest } from "./provider.ts";

export const APP_NAME = "cloud-credential-helpers";

export type { Env } from "./env.ts";

export interface Paths {
  configDir: string;
  configFile: string;
  cacheDir: string;
}

export function resolvePaths(env: Env, manifest: Manifest): Paths {
  const defaults = envPaths(APP_NAME, { suffix: "" });
  const configDir = env.CCH_CONFIG_DIR || defaults.config;
  const upstream = manifest.upstreamEnv?.cacheDir;
  return {
    configDir,
    configFile: env.CCH_CONFIG || join(configDir, "config.json"),
    cacheDir: env.CCH_CACHE_DIR || expandHome(upstream ? env[upstream] : undefined, env) || defaults.cache,
  };
}

/**
 * CCH_DISABLE_CACHE is a boolean; an upstream variable keeps its upstream
 * meaning: the ECR helper disables its cache for any non-empty value.
 */
export function cacheDisabled(env: Env, manifest: Manifest): boolean {
  const upstream = manifest.upstreamEnv?.disableCache;
  return parseBoolean(env.CCH_DISABLE_CACHE) || (upstream !== undefined && Boolean(env[upstream]));
}

/** Whether `store`/`erase` succeed without saving (the ECR helper's AWS_ECR_IGNORE_CREDS_STORAGE). */
export function storeIgnored(env: Env, manifest: Manifest): boolean {
  const upstream = manifest.upstreamEnv?.ignoreStore;
  return upstream !== undefined && parseBoolean(env[upstream]);
}

/** Upstream helpers expand a leading `~` in their directory variables. */
function expandHome(dir: string | undefined, env: Env): string | undefined {
  if (!dir) return undefined;
  if ((dir === "~" || dir.startsWith("~/")) && env.HOME) return join(env.HOME, dir.slice(1));
  return dir;
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
