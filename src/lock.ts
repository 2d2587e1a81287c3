// A cross-process lock on a file created with O_EXCL. Many helper processes
// start at once (kubelet pulling a pod's images, `docker build` calling every
// helper); the lock makes one of them refresh a token while the others wait,
// and each waiter looks at the cache on every poll so it can leave early.
//
// A lock whose owner died (kill -9, OOM) is recovered: the owner's pid is in
// the file, and a lock whose pid is gone or that is older than `staleMs` is
// broken.

import { closeSync, linkSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { randomHex } from "./hash.ts";
import { ensurePrivateDir, isErrno, unlinkQuiet } from "./fsutil.ts";

export interface LockOptions {
  /** Give up at this epoch-millisecond time. */
  deadline: number;
  /** A lock older than this is broken whatever its pid. */
  staleMs?: number;
  pollMs?: number;
  now?: () => number;
  /** Whether a pid is alive; injectable for tests. */
  isAlive?: (pid: number) => boolean;
}

export class LockTimeoutError extends Error {
  override name = "LockTimeoutError";
}

const DEFAULT_STALE_MS = 60_000;
const DEFAULT_POLL_MS = 10;

export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return isErrno(err, "EPERM");
  }
}

/**
 * Runs `fn` while holding the lock at `path`. While waiting, `check` is called
 * on every poll; a non-null result ends the wait without taking the lock.
 */
export async function withLock<T>(
  path: string,
  options: LockOptions,
  fn: () => Promise<T>,
  check: () => T | null = () => null,
): Promise<T> {
  const now = options.now ?? Date.now;
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS;
  const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  const isAlive = options.isAlive ?? processIsAlive;
  ensurePrivateDir(dirname(path));

  for (;;) {
    const token = tryAcquire(path, now());
    if (token !== null) {
      try {
        return await fn();
      } finally {
        release(path, token);
      }
    }
    breakIfStale(path, now(), staleMs, isAlive);
    const early = check();
    if (early !== null) return early;
    if (now() >= options.deadline) {
      throw new LockTimeoutError("timed out waiting for another process to refresh the token");
    }
    await sleep(pollMs + Math.floor(Math.random() * pollMs));
  }
}

function tryAcquire(path: string, at: number): string | null {
  // Write the token to a private temp file, then hard-link it into place:
  // link() fails if the lock exists, and the lock never exists without its
  // owner's pid in it (a kill -9 between create and write cannot leave an
  // empty lock that nobody can judge).
  const token = `${process.pid} ${at} ${randomHex(4)}`;
  const tmp = `${path}.${randomHex(6)}.tmp`;
  const fd = openSync(tmp, "wx", 0o600);
  try {
    writeSync(fd, token);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path);
    return token;
  } catch (err) {
    if (isErrno(err, "EEXIST")) return null;
    throw err;
  } finally {
    unlinkQuiet(tmp);
  }
}

function release(path: string, token: string): void {
  // Only remove the lock if it is still ours (it may have been broken as stale).
  if (readQuiet(path) === token) unlinkQuiet(path);
}

function breakIfStale(path: string, at: number, staleMs: number, isAlive: (pid: number) => boolean): void {
  const content = readQuiet(path);
  if (content === null) return;
  const [pidText, atText] = content.split(" ");
  const pid = Number(pidText);
  const since = Number(atText);
  // Unreadable content (a lock from an older version, or garbage) counts as dead.
  const dead = Number.isInteger(pid) && pid > 0 ? !isAlive(pid) : true;
  const old = Number.isFinite(since) ? at - since > staleMs : true;
  if (!dead && !old) return;
  // Move it aside, then make sure what we moved is the stale lock we judged.
  const aside = `${path}.${randomHex(4)}.stale`;
  try {
    renameSync(path, aside);
  } catch {
    return;
  }
  if (readQuiet(aside) !== content) {
    // Another process replaced the stale lock in between: give its lock back.
    try {
      linkSync(aside, path);
    } catch {
      // A third process holds the lock now; the displaced owner will find
      // its token gone and leave it alone. At worst two refreshes run.
    }
  }
  unlinkQuiet(aside);
}

function readQuiet(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
