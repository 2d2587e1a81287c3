// The token cache: one small file per (provider, host, identity), so writers
// of different entries never contend and a refresh replaces one file
// atomically. Files are 0600 in a 0700 directory. A file that does not parse,
// or that holds another key, is discarded: never fatal, never served. A
// directory or file we cannot trust (another user's, writable by others, a
// symbolic link) is ignored, with a debug line: the token is fetched anew.

import { sha256Hex } from "./hash.ts";
import { jsonObjectOrNull } from "./json.ts";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { sweepStaleTemps, unlinkQuiet, writeFileAtomic } from "./fsutil.ts";
import { directoryProblem, readTrusted } from "./trust.ts";

export interface CacheEntry {
  key: string;
  provider: string;
  /** The registry host key the token was fetched for (what `list` shows). */
  host: string;
  username: string;
  secret: string;
  /** Epoch milliseconds. */
  issuedAt: number;
  expiresAt: number;
}

const ENTRY_SUFFIX = ".token.json";
const ERASED_SUFFIX = ".erased.json";
/** Temp files older than this were left by a killed writer. */
export const STALE_TEMP_MS = 60_000;

export class TokenCache {
  constructor(
    readonly dir: string,
    private readonly debug: (message: string) => void = () => {},
  ) {}

  /** The cache in `dir`, or null (with a debug line) when that directory cannot be trusted. */
  static open(dir: string, debug: (message: string) => void = () => {}): TokenCache | null {
    let problem: string | null;
    try {
      problem = directoryProblem(dir);
    } catch (err) {
      problem = `cannot be examined (${(err as Error).message})`;
    }
    if (problem === null) return new TokenCache(dir, debug);
    debug(`the token cache ${dir} ${problem}; not using it`);
    return null;
  }

  /** The file's text; null when missing, unreadable or not to be trusted (said in the debug log). */
  readText(file: string): string | null {
    try {
      const read = readTrusted(file);
      if ("untrusted" in read) this.debug(`the cache file ${file} ${read.untrusted}; ignoring it`);
      return "text" in read ? read.text : null;
    } catch (err) {
      this.debug(`cannot read the cache file ${file}: ${(err as Error).message}`);
      return null;
    }
  }

  fileFor(key: string): string {
    return join(this.dir, sha256Hex(key).slice(0, 40) + ENTRY_SUFFIX);
  }

  lockFor(key: string): string {
    return this.fileFor(key).replace(ENTRY_SUFFIX, ".lock");
  }

  read(key: string): CacheEntry | null {
    const file = this.fileFor(key);
    const text = this.readText(file);
    if (text === null) return null;
    const entry = parseCacheEntry(text);
    if (entry === null || entry.key !== key || this.erased(entry)) {
      unlinkQuiet(file);
      return null;
    }
    return entry;
  }

  write(entry: CacheEntry): void {
    sweepStaleTemps(this.dir, STALE_TEMP_MS);
    writeFileAtomic(this.fileFor(entry.key), JSON.stringify({ v: 1, ...entry }) + "\n");
  }

  /** All readable entries; corrupt files are removed on the way. */
  entries(): CacheEntry[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const out: CacheEntry[] = [];
    for (const name of names) {
      if (!name.endsWith(ENTRY_SUFFIX)) continue;
      const path = join(this.dir, name);
      const text = this.readText(path);
      if (text === null) continue;
      const entry = parseCacheEntry(text);
      if (entry === null || this.erased(entry)) unlinkQuiet(path);
      else out.push(entry);
    }
    return out;
  }

  /**
   * Removes every entry of `provider` for `host`; returns how many. A refresh
   * already in flight may write its token afterwards: the host is marked
   * erased at `now` first, and an entry whose fetch began by then is never served.
   */
  removeHost(provider: string, host: string, now = Date.now()): number {
    const found = this.entries().filter((e) => e.provider === provider && e.host === host);
    try {
      writeFileAtomic(this.erasedFile(provider, host), JSON.stringify({ provider, host, at: now }) + "\n");
    } catch {
      // An unwritable cache holds no new token either: removing what is there is all there is to do.
    }
    return found.filter((e) => unlinkQuiet(this.fileFor(e.key))).length;
  }

  private erasedFile(provider: string, host: string): string {
    return this.fileFor(`${provider}|erased|${host}`).replace(ENTRY_SUFFIX, ERASED_SUFFIX);
  }

  /** Fetched before the host was last erased (`docker logout`). */
  private erased(entry: CacheEntry): boolean {
    const text = this.readText(this.erasedFile(entry.provider, entry.host));
    const d = text === null ? null : jsonObjectOrNull(text);
    return d !== null && d.provider === entry.provider && d.host === entry.host && typeof d.at === "number" && entry.issuedAt <= d.at;
  }
}

export function parseCacheEntry(text: string): CacheEntry | null {
  const d = jsonObjectOrNull(text);
  if (d === null) return null;
  if (d.v !== 1) return null;
  for (const f of ["key", "provider", "host", "username", "secret"]) if (typeof d[f] !== "string") return null;
  for (const f of ["issuedAt", "expiresAt"]) if (typeof d[f] !== "number" || !Number.isFinite(d[f])) return null;
  return {
    key: d.key as string,
    provider: d.provider as string,
    host: d.host as string,
    username: d.username as string,
    secret: d.secret as string,
    issuedAt: d.issuedAt as number,
    expiresAt: d.expiresAt as number,
  };
}

/** A failure remembered for a while (see ProviderError.recurForMs). */
export interface RememberedFailure {
  message: string;
  /** Epoch milliseconds. */
  until: number;
}

const FAILURE_SUFFIX = ".failure.json";

/** Reads a remembered failure for `key`; null when none, expired, or unreadable. */
export function readFailure(cache: TokenCache, key: string, now: number): RememberedFailure | null {
  const file = cache.fileFor(key).replace(ENTRY_SUFFIX, FAILURE_SUFFIX);
  const text = cache.readText(file);
  if (text === null) return null;
  const d = jsonObjectOrNull(text);
  if (d !== null && d.key === key && typeof d.message === "string" && typeof d.until === "number" && d.until > now) {
    return { message: d.message, until: d.until };
  }
  // Expired or unreadable: forget it.
  unlinkQuiet(file);
  return null;
}

export function rememberFailure(cache: TokenCache, key: string, failure: RememberedFailure): void {
  writeFileAtomic(cache.fileFor(key).replace(ENTRY_SUFFIX, FAILURE_SUFFIX), JSON.stringify({ key, ...failure }) + "\n");
}

/**
 * The one margin, on the Docker and kubelet paths alike: a token with at least
 * this long left is served (upstream's kubelet plugins use the same 10 s).
 */
export const MIN_REMAINING_MS = 10_000;

/** Still fresh: before half of its life, as the reference helpers refresh. */
export function isFresh(entry: CacheEntry, now: number, minRemainingMs: number): boolean {
  const halfLife = entry.issuedAt + (entry.expiresAt - entry.issuedAt) / 2;
  return now < halfLife && isUsable(entry, now, minRemainingMs);
}

/** Can still be served (e.g. when a refresh failed): enough life left. */
export function isUsable(entry: CacheEntry, now: number, minRemainingMs: number): boolean {
  return entry.expiresAt - now >= minRemainingMs;
}
