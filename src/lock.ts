// A cross-process lock on a file created with O_EXCL. Many helper processes
// start at once (kubelet pulling a pod's images, `docker build` calling every
// helper); the lock makes one of them refresh a token while the others wait,
// and each waiter looks at the cache on every poll so it can leave early.
//
// A lock whose owner died (kill -9, OOM) is recovered. The owner holds a
// kernel lock (flock, see kernel-lock.ts) on the lock file from before it
// appears until it is removed: a waiter that can take that kernel lock knows
// the owner is dead. Where there is no kernel lock (Windows, a file system
// without flock) the file names the owner's pid and, where /proc exists, the
// process's start time: a lock whose pid is gone, or now belongs to a process
// started at another time (pid reuse), is dead. Either way, a lock older than
// `staleMs`, or that claims a time in the future, is broken.
//
// A lock we cannot create or trust (read-only or full disk, a file another
// user planted) is LockUnavailableError: the caller goes on without it.

import { closeSync, constants, linkSync, openSync, renameSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { randomHex } from "./hash.ts";
import { ensurePrivateDir, fileError, isErrno, unlinkQuiet } from "./fsutil.ts";
import { O_NOFOLLOW, readTrusted } from "./trust.ts";
import { kernelLock, type KernelLock } from "./kernel-lock.ts";
import { procStatFields } from "./proc.ts";

export interface LockOptions {
  /** Give up at this epoch-millisecond time. */
  deadline: number;
  /** A lock older than this is broken whatever its pid. */
  staleMs?: number;
  pollMs?: number;
  now?: () => number;
  /** Whether a pid is alive; injectable for tests. */
  isAlive?: (pid: number) => boolean;
  /** A process's start time, null where unknown; injectable for tests. */
  startTime?: (pid: number) => string | null;
  /** The kernel lock; by default flock where it can be loaded (null: judge by pid). */
  kernel?: KernelLock | null;
  /** What a waiter waits for, for the timeout message. */
  waitingFor?: string;
  /**
   * When the lock cannot be taken or trusted here (read-only or full disk,
   * a lock file another user planted): called with the reason, and `fn`
   * runs without the lock. Without it, LockUnavailableError is thrown.
   */
  withoutLock?: (reason: string) => void;
}

export class LockTimeoutError extends Error {
  override name = "LockTimeoutError";
}

/** The lock cannot be taken or trusted here; the caller carries on without it. */
export class LockUnavailableError extends Error {
  override name = "LockUnavailableError";
  /** Thrown by `fn` itself (e.g. a nested lock), not by taking this one. */
  ran = false;
}

const DEFAULT_STALE_MS = 60_000;
const DEFAULT_POLL_MS = 10;
/** A lock dated later than now by more than this was not written by a clock we share. */
const FUTURE_SLACK_MS = 1000;

/**
 * When the process started, in clock ticks since boot (field 22 of
 * /proc/<pid>/stat); null where there is no /proc (macOS, Windows) or no
 * such process. With the pid it names a process uniquely.
 */
export function processStartTime(pid: number): string | null {
  const start = procStatFields(pid)?.[19];
  return start && /^\d+$/.test(start) ? start : null;
}

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
  try {
    return await lockAndRun(path, options, fn, check);
  } catch (err) {
    if (!(err instanceof LockUnavailableError) || !options.withoutLock || err.ran) throw err;
    options.withoutLock(err.message);
    return fn();
  }
}

async function lockAndRun<T>(path: string, options: LockOptions, fn: () => Promise<T>, check: () => T | null): Promise<T> {
  const now = options.now ?? Date.now;
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS;
  const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  const isAlive = options.isAlive ?? processIsAlive;
  const startTime = options.startTime ?? processStartTime;
  try {
    ensurePrivateDir(dirname(path));
  } catch (err) {
    throw new LockUnavailableError((err as Error).message);
  }
  const self = startTime(process.pid);
  const kernel = options.kernel === undefined ? await kernelLock() : options.kernel;
  const judge: Judge = { staleMs, isAlive, startTime, kernel };

  for (;;) {
    const held = tryAcquire(path, now(), self, kernel);
    if (held !== null) {
      try {
        return await fn();
      } catch (err) {
        if (err instanceof LockUnavailableError) err.ran = true;
        throw err;
      } finally {
        release(path, held);
      }
    }
    breakIfStale(path, now(), judge);
    const early = check();
    if (early !== null) return early;
    if (now() >= options.deadline) {
      throw new LockTimeoutError(`timed out waiting for ${options.waitingFor ?? "another process to refresh the token"}`);
    }
    await sleep(pollMs + Math.floor(Math.random() * pollMs));
  }
}

interface Held {
  token: string;
  /** The lock file, open and flocked, until it is removed; null without a kernel lock. */
  fd: number | null;
}

interface Judge {
  staleMs: number;
  isAlive: (pid: number) => boolean;
  startTime: (pid: number) => string | null;
  kernel: KernelLock | null;
}

function tryAcquire(path: string, at: number, startTime: string | null, kernel: KernelLock | null): Held | null {
  // Write the token to a private temp file, then hard-link it into place:
  // link() fails if the lock exists, and the lock never exists without its
  // owner's pid in it (a kill -9 between create and write cannot leave an
  // empty lock that nobody can judge). The kernel lock is taken on the temp
  // file, the same inode, so the lock is held from the moment it appears.
  const tmp = `${path}.${randomHex(6)}.tmp`;
  let fd: number | null = null;
  try {
    fd = openSync(tmp, "wx", 0o600);
    const flocked = kernel !== null && kernel.tryLock(fd);
    const token = `${process.pid} ${at} ${randomHex(4)} ${startTime ?? "-"} ${flocked ? "flock" : "-"}`;
    writeSync(fd, token);
    if (!flocked) {
      closeSync(fd);
      fd = null;
    }
    linkSync(tmp, path);
    return { token, fd };
  } catch (err) {
    if (fd !== null) closeSync(fd);
    if (isErrno(err, "EEXIST")) return null;
    throw new LockUnavailableError(fileError("create the lock", path, err).message);
  } finally {
    unlinkQuiet(tmp);
  }
}

function release(path: string, held: Held): void {
  // Only remove the lock if it is still ours (it may have been broken as stale),
  // and before the kernel lock goes: a waiter never sees our file unlocked.
  try {
    if (readQuiet(path) === held.token) unlinkQuiet(path);
  } catch {
    // replaced by a lock we do not trust: not ours to remove
  }
  if (held.fd !== null) closeSync(held.fd);
}

/** Whether the kernel lock on the file at `path` is free: its holder is gone. Null when it cannot tell. */
function kernelLockFree(path: string, kernel: KernelLock): boolean | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | O_NOFOLLOW);
  } catch {
    return null;
  }
  try {
    return kernel.tryLock(fd);
  } finally {
    closeSync(fd); // and with it the lock we may just have taken
  }
}

function breakIfStale(path: string, at: number, judge: Judge): void {
  const content = readQuiet(path);
  if (content === null) return;
  const [pidText, atText, , startText, kernelText] = content.split(" ");
  const pid = Number(pidText);
  const since = Number(atText);
  let dead: boolean;
  const free = kernelText === "flock" && judge.kernel !== null ? kernelLockFree(path, judge.kernel) : null;
  if (free !== null) {
    dead = free;
  } else {
    // Unreadable content (a lock from an older version, or garbage) counts as dead.
    dead = Number.isInteger(pid) && pid > 0 ? !judge.isAlive(pid) : true;
    if (!dead && startText !== undefined && startText !== "-") {
      // The pid is alive: is it still the process that took the lock?
      const now = judge.startTime(pid);
      dead = now !== null && now !== startText;
    }
  }
  const old = Number.isFinite(since) ? at - since > judge.staleMs || since - at > FUTURE_SLACK_MS : true;
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

/** The lock's content; null when there is none. A lock we cannot trust is not ours to judge. */
function readQuiet(path: string): string | null {
  let read;
  try {
    read = readTrusted(path);
  } catch {
    return null;
  }
  if ("untrusted" in read) throw new LockUnavailableError(`the lock ${path} ${read.untrusted}; not used`);
  return "text" in read ? read.text : null;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
