// The Context every provider call gets: environment, clock, debug logger,
// configuration and the deadline, built once per command.

import { appendFileSync } from "node:fs";
import type { Config } from "./config.ts";
import { createLogger, type Logger } from "./log.ts";
import { loadConfig, type Env, type Paths } from "./paths.ts";
import { parseBoolean } from "./env.ts";
import type { Context } from "./provider.ts";

const DEFAULT_TIMEOUT_SECONDS = 10;

export function makeLogger(env: Env, name: string, verbose: boolean): Logger {
  const sinks: Array<(line: string) => void> = [];
  if (env.CCH_LOG) {
    const file = env.CCH_LOG;
    sinks.push((line) => appendFileSync(file, line, { mode: 0o600 }));
  }
  if (verbose || parseBoolean(env.CCH_DEBUG)) sinks.push((line) => process.stderr.write(line));
  return createLogger(sinks.length ? (line) => sinks.forEach((sink) => sink(line)) : null, name);
}

export function timeoutSeconds(env: Env, config: Config): number {
  const fromEnv = Number(env.CCH_TIMEOUT);
  if (env.CCH_TIMEOUT && Number.isFinite(fromEnv) && fromEnv > 0) return fromEnv;
  return config.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
}

/** Builds a Context: configuration, logger, deadline. Throws ConfigError for a bad file. */
export function makeContext(env: Env, paths: Paths, log: Logger, extra: Partial<Context> = {}): Context {
  const config = loadConfig(paths.configFile);
  const deadline = Date.now() + timeoutSeconds(env, config) * 1000;
  const signal = AbortSignal.timeout(Math.max(1, deadline - Date.now()));
  return { env, now: () => new Date(), log, signal, deadline, config, ...extra };
}
