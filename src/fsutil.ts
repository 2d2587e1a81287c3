// File primitives for secrets: private directories, atomic replacement.
// A reader sees either the old file or the new one, never a torn write.

import {
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
import { directoryProblem, UntrustedError } from "./trust.ts";

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Creates `dir` (and missing parents) 0700, or makes sure an existing one can
 * be trusted (ours or root's, writable by nobody else): throws UntrustedError
 * otherwise. Never changes the mode of a directory it did not create.
 */
export function ensurePrivateDir(dir: string): void {
  const problem = directoryProblem(dir);
  if (problem !== null) throw new UntrustedError(dir, problem);
  try {
    mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  } catch (err) {
    throw fileError("create the directory", dir, err);
  }
}

/**
 * An fs error that names the file: Node's messages for write, fsync or
 * rename name only the call ("ENOSPC: no space left on device, write").
 * Keeps the errno code.
 */
export function fileError(action: string, path: string, err: unknown): Error {
  const code = (err as { code?: unknown } | null)?.code;
  const reason = typeof code === "string" ? `${code}: ${describeCode(code, err)}` : String((err as Error)?.message ?? err);
  return Object.assign(new Error(`cannot ${action} ${path}: ${reason}`), typeof code === "string" ? { code } : {});
}

function describeCode(code: string, err: unknown): string {
  const message = String((err as Error)?.message ?? "");
  // "ENOSPC: no space left on device, write '/x'" → "no space left on device"
  const m = new RegExp(`^${code}: ([^,]+)`).exec(message);
  return m ? m[1]! : message;
}

/**
 * Writes `data` to a private temp file beside `path`, syncs it, then renames
 * it over `path` (replacing a symbolic link there, never following it). On
 * any failure the temp file is removed and the error names `path`.
 */
export function writeFileAtomic(path: string, data: string, mode = PRIVATE_FILE_MODE): void {
  // Secrets live in private directories; a public file (mode with read bits
  // for others) goes into a directory as it is, e.g. /etc/kubernetes.
  if ((mode & 0o077) === 0) ensurePrivateDir(dirname(path));
  const tmp = join(dirname(path), `.${randomHex(6)}.tmp`);
  let fd: number;
  try {
    // "wx": O_CREAT|O_EXCL, which never follows a symbolic link.
    fd = openSync(tmp, "wx", mode);
  } catch (err) {
    throw fileError("write", path, err);
  }
  try {
    try {
      writeSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    unlinkQuiet(tmp);
    throw fileError("write", path, err);
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
