// File primitives for secrets: private directories, atomic replacement.
// A reader sees either the old file or the new one, never a torn write.

import {
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
import { isErrno } from "./errno.ts";
import { directoryProblem, UntrustedError } from "./trust.ts";

export { isErrno };

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
export interface AtomicWriteOptions {
  /** The file's mode (default 0600). */
  mode?: number;
  /**
   * Make sure the directory is private (0700, ours) first. Default: for
   * private files (no bits for group and others). A public file goes into a
   * directory as it is (/etc/kubernetes), and so does a file in a directory
   * the user chose the mode of (DOCKER_CONFIG): that one is only created,
   * 0700, when missing.
   */
  privateDir?: boolean;
}

export function writeFileAtomic(path: string, data: string, options: AtomicWriteOptions | number = {}): void {
  const { mode = PRIVATE_FILE_MODE, privateDir = (mode & 0o077) === 0 } =
    typeof options === "number" ? { mode: options } : options;
  if (privateDir) ensurePrivateDir(dirname(path));
  else mkdirSync(dirname(path), { recursive: true, mode: PRIVATE_DIR_MODE });
  const tmp = join(dirname(path), `.${randomHex(6)}.tmp`);
  let fd: number;
  try {
    // "wx": O_CREAT|O_EXCL, which never follows a symbolic link.
    fd = openSync(tmp, "wx", PRIVATE_FILE_MODE);
  } catch (err) {
    throw fileError("write", path, err);
  }
  try {
    try {
      writeSync(fd, data);
      fchmodSync(fd, mode);
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
