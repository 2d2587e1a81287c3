// Where the resolver keeps a host's cached token and lock in a given
// environment, computed exactly as a `get` does; and a pid that is surely
// dead. For herd, lock-recovery and benchmark set-ups.

import { TokenCache } from "../../src/cache.ts";
import { EMPTY_CONFIG, type Config } from "../../src/config.ts";
import { silentLogger } from "../../src/log.ts";
import type { Context, Provider } from "../../src/provider.ts";
import { parseServerUrl } from "../../src/registry.ts";
import { cacheKey, targetFor } from "../../src/resolve.ts";

/** The cache key a `get` for `serverUrl` uses, with `env` as the helper's environment. */
export function cacheKeyFor(
  provider: Provider,
  serverUrl: string,
  env: Record<string, string>,
  config: Config = EMPTY_CONFIG,
): string {
  const parsed = parseServerUrl(serverUrl);
  if (!parsed.ok) throw new Error(parsed.reason);
  const target = targetFor(parsed.host, provider, config);
  if (!target) throw new Error(`${provider.manifest.name} does not serve ${serverUrl}`);
  const ctx: Context = {
    env,
    now: () => new Date(),
    log: silentLogger,
    signal: new AbortController().signal,
    deadline: Date.now() + 10_000,
    config,
  };
  return cacheKey(provider, target, ctx);
}

/** The lock file a `get` for `serverUrl` takes in `cacheDir`. */
export function lockPathFor(provider: Provider, serverUrl: string, env: Record<string, string>, cacheDir: string): string {
  return new TokenCache(cacheDir).lockFor(cacheKeyFor(provider, serverUrl, env));
}

/** The pid of a process that has exited and been reaped: nothing answers to it. */
export async function deadPid(): Promise<number> {
  const p = Bun.spawn(["true"]);
  await p.exited;
  return p.pid;
}
