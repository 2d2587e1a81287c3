// File primitives for secrets: private directories, atomic replacement.
// A reader sees either the old file or the new one, never a torn write.

import {
  chmodSync,
  closeSync,
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

/** Writes `data` to a private temp file beside `path`, syncs it, then renames it over `path`. */
export function writeFileAtomic(path: string, data: string, mode = PRIVATE_FILE_MODE): void {
  // Secrets live in private directories; a public file (mode with read bits
  // for others) goes into a directory as it is, e.g. /etc/kubernetes.
  if ((mode & 0o077) === 0) ensurePrivateDir(dirname(path));
  const tmp = join(dirname(path), `.${randomHex(6)}.tmp`);
  const fd = openSync(tmp, "wx", mode);
  try {
    writeSync(fd, data);
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
