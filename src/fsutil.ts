// File primitives for secrets: private directories, atomic replacement.
// A reader sees either the old file or the new one, never a torn write.

import {
  chmodSync,
  closeSync,
  fchmodSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { randomHex } from "./hash.ts";

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Creates `dir` (and parents) and makes sure `dir` itself is 0700. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const st = statSync(dir);
  if ((st.mode & 0o077) !== 0) chmodSync(dir, PRIVATE_DIR_MODE);
}

export interface AtomicWriteOptions {
  /** The file's mode (default 0600). */
  mode?: number;
  /**
   * Make the directory private (0700) first. Default: for private files
   * (no bits for group and others). A public file goes into a directory as
   * it is (/etc/kubernetes), and so does a file in a directory the user
   * chose the mode of (DOCKER_CONFIG): that one is only created, 0700, when missing.
   */
  privateDir?: boolean;
}

/** Writes `data` to a private temp file beside `path`, syncs it, then renames it over `path`. */
export function writeFileAtomic(path: string, data: string, options: AtomicWriteOptions | number = {}): void {
  const { mode = PRIVATE_FILE_MODE, privateDir = (mode & 0o077) === 0 } =
    typeof options === "number" ? { mode: options } : options;
  if (privateDir) ensurePrivateDir(dirname(path));
  else mkdirSync(dirname(path), { recursive: true, mode: PRIVATE_DIR_MODE });
  const tmp = join(dirname(path), `.${randomHex(6)}.tmp`);
  const fd = openSync(tmp, "wx", PRIVATE_FILE_MODE);
  try {
    writeSync(fd, data);
    fchmodSync(fd, mode);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkQuiet(tmp);
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (err) {
    unlinkQuiet(tmp);
    throw err;
  }
}

/** The file's text, or null when it does not exist. Other errors propagate. */
export function readTextOrNull(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    if (isErrno(err, "ENOENT") || isErrno(err, "ENOTDIR")) return null;
    throw err;
  }
}

export function unlinkQuiet(path: string): boolean {
  try {
    unlinkSync(path);
    return true;
  } catch {
    return false;
  }
}

export function isErrno(err: unknown, code: string): boolean {
  return typeof err === "object" && err !== null && (err as { code?: unknown }).code === code;
}

/**
 * Removes temp files (`*.tmp`) older than `olderThanMs` from `dir`: what a
 * writer killed between create and rename leaves behind. Best effort.
 */
export function sweepStaleTemps(dir: string, olderThanMs: number, now = Date.now()): number {
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    if (!name.endsWith(".tmp")) continue;
    const path = join(dir, name);
    try {
      if (now - statSync(path).mtimeMs > olderThanMs && unlinkQuiet(path)) removed++;
    } catch {
      // gone already
    }
  }
  return removed;
}
