// The Context every provider call gets: environment, clock, debug logger,
// configuration and the deadline, built once per command.

import { closeSync, constants, fstatSync, openSync, writeSync } from "node:fs";
import { ConfigError, isTimeoutSeconds, MAX_TIMEOUT_SECONDS, quoteShort, type Config } from "./config.ts";
import { endChildrenOnAbort } from "./children.ts";
import { isErrno } from "./fsutil.ts";
import { O_NOFOLLOW, untrustedReason } from "./trust.ts";
import { createLogger, type Logger } from "./log.ts";
import { loadConfig, type Env, type Paths } from "./paths.ts";
import { parseBoolean } from "./env.ts";
import type { Context } from "./provider.ts";

const DEFAULT_TIMEOUT_SECONDS = 10;

/**
 * The debug logger: to stderr with --verbose or CCH_DEBUG, and appended to
 * CCH_LOG. Logging never changes the answer or the exit code: a log file
 * that cannot be opened or trusted, or a write that fails, is dropped.
 */
export function makeLogger(env: Env, name: string, verbose: boolean): Logger {
  const sinks: Array<(line: string) => void> = [];
  const toStderr = verbose || parseBoolean(env.CCH_DEBUG);
  if (env.CCH_LOG) {
    const file = openLogFile(env.CCH_LOG);
    if (typeof file === "number") sinks.push((line) => void writeSync(file, line));
    else if (toStderr) process.stderr.write(`${name}: not logging to CCH_LOG: ${file}\n`);
  }
  if (toStderr) sinks.push((line) => void process.stderr.write(line));
  const safe = (line: string) => {
    for (const sink of sinks) {
      try {
        sink(line);
      } catch {
        // a full disk or a closed stderr must not cost the answer
      }
    }
  };
  return createLogger(sinks.length ? safe : null, name);
}

/**
 * Opens the log for appending: created 0600, never through a symbolic link,
 * and only a file of ours (or root's) that nobody else can write. Returns
 * the descriptor, or why not.
 */
function openLogFile(path: string): number | string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | O_NOFOLLOW, 0o600);
  } catch (err) {
    return isErrno(err, "ELOOP") ? `${path} is a symbolic link` : (err as Error).message;
  }
  try {
    const problem = untrustedReason(fstatSync(fd), "file");
    if (problem === null) return fd;
    closeSync(fd);
    return `${path} ${problem}`;
  } catch (err) {
    closeSync(fd);
    return (err as Error).message;
  }
}

export function timeoutSeconds(env: Env, config: Config): number {
  if (env.CCH_TIMEOUT === undefined || env.CCH_TIMEOUT === "") return config.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
  const t = Number(env.CCH_TIMEOUT);
  if (!isTimeoutSeconds(t)) {
    throw new ConfigError(
      `CCH_TIMEOUT must be a number of seconds between 0 and ${MAX_TIMEOUT_SECONDS} (got ${quoteShort(env.CCH_TIMEOUT)})`,
    );
  }
  return t;
}

/** Builds a Context: configuration, logger, deadline. Throws ConfigError for a bad file. */
export function makeContext(env: Env, paths: Paths, log: Logger, extra: Partial<Context> = {}): Context {
  const config = loadConfig(paths.configFile);
  const deadline = Date.now() + timeoutSeconds(env, config) * 1000;
  const signal = AbortSignal.timeout(Math.max(1, deadline - Date.now()));
  endChildrenOnAbort(signal);
  return { env, now: () => new Date(), log, signal, deadline, config, ...extra };
}
