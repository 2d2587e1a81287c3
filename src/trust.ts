// Which files and directories we trust, as ssh decides for ~/.ssh: one owned
// by the caller (or by root) and writable by nobody else (a group of the
// owner's own, as with umask 002, counts as nobody else). Another local user
// who can write a file could point an endpoint at a server of theirs or plant
// a token; such a file is refused, never followed.
//
// Where there are no uids or mode bits (Windows), every file passes: the
// checks there are the file system's ACLs.

import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync, statSync, type Stats } from "node:fs";
import { isErrno } from "./errno.ts";

/** O_NOFOLLOW where the platform has it (not on Windows, where it is 0). */
export const O_NOFOLLOW: number = constants.O_NOFOLLOW ?? 0;

const myUid = (): number | null => (typeof process.geteuid === "function" ? process.geteuid() : null);

/** Why `st` is not to be trusted, or null when it is. */
export function untrustedReason(st: Stats, kind: "file" | "directory"): string | null {
  if (kind === "file" ? !st.isFile() : !st.isDirectory()) return `is not a ${kind}`;
  const uid = myUid();
  if (uid === null) return null;
  if (st.uid !== uid && st.uid !== 0) return `is owned by uid ${st.uid}, not by you (uid ${uid}) or root`;
  const groupWritable = (st.mode & 0o020) !== 0 && !isPrivateGroup(st.gid, st.uid);
  if (groupWritable || (st.mode & 0o002) !== 0) {
    const who = [groupWritable ? "group" : "", st.mode & 0o002 ? "others" : ""].filter(Boolean).join(" and ");
    return `is writable by ${who} (mode ${modeText(st)})`;
  }
  return null;
}

/**
 * As ssh allows: a group-writable file is fine when its group is the
 * owner's private group (umask 002 distributions): named as the owner, no
 * listed members but the owner, nobody else's primary group. Judged from
 * /etc/passwd and /etc/group; where they do not tell (directory services,
 * macOS), the group counts as shared.
 */
function isPrivateGroup(gid: number, ownerUid: number): boolean {
  const passwd = readLines("/etc/passwd");
  const group = readLines("/etc/group");
  const owner = passwd.find((f) => Number(f[2]) === ownerUid)?.[0];
  const entry = group.find((f) => Number(f[2]) === gid);
  if (owner === undefined || entry === undefined || entry[0] !== owner) return false;
  const members = (entry[3] ?? "").split(",").filter(Boolean);
  if (members.some((m) => m !== owner)) return false;
  return passwd.every((f) => Number(f[3]) !== gid || Number(f[2]) === ownerUid);
}

function readLines(path: string): string[][] {
  try {
    return readFileSync(path, "utf8")
      .split("\n")
      .filter((line) => line && !line.startsWith("#"))
      .map((line) => line.split(":"));
  } catch {
    return [];
  }
}

function modeText(st: Stats): string {
  return (st.mode & 0o7777).toString(8).padStart(4, "0");
}

export class UntrustedError extends Error {
  override name = "UntrustedError";
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path} ${reason}; not used`);
  }
}

export type TrustedRead = { text: string } | { missing: true } | { untrusted: string };

/**
 * Reads a file we are to trust: opened without following a symbolic link
 * (unless `follow`, for configuration kept in a mounted ConfigMap), then
 * checked on the open descriptor, so what is checked is what is read.
 * A missing file is `missing`; other errors propagate.
 */
export function readTrusted(path: string, options: { follow?: boolean } = {}): TrustedRead {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (options.follow ? 0 : O_NOFOLLOW));
  } catch (err) {
    if (isErrno(err, "ENOENT") || isErrno(err, "ENOTDIR")) return { missing: true };
    if (isErrno(err, "ELOOP")) return { untrusted: "is a symbolic link" };
    throw err;
  }
  try {
    const reason = untrustedReason(fstatSync(fd), "file");
    if (reason !== null) return { untrusted: reason };
    return { text: readFileSync(fd, "utf8") };
  } finally {
    closeSync(fd);
  }
}

/**
 * Whether a directory we keep secrets in can be trusted: null when it is, or
 * does not exist yet (we create it 0700); else why not. A symbolic link to a
 * directory is judged by the directory it points to.
 */
export function directoryProblem(dir: string): string | null {
  let st: Stats;
  try {
    st = statSync(dir);
  } catch (err) {
    if (isErrno(err, "ENOENT")) return null;
    if (isErrno(err, "ENOTDIR")) return "is not a directory";
    throw err;
  }
  return untrustedReason(st, "directory");
}

/** lstat, or null when the path does not exist. */
export function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (err) {
    if (isErrno(err, "ENOENT")) return null;
    throw err;
  }
}
