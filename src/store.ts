// Credentials saved by `store` (docker login, skopeo login). One JSON file,
// 0600 in a 0700 directory, replaced atomically under a lock so concurrent
// logins do not lose each other's entries.
//
// Nothing saved is ever lost: a file that cannot be read, parsed or trusted,
// or that has a newer format version, is never overwritten: `store` and
// `erase` fail with one line naming the file and what is wrong. One we
// cannot trust (another user's) fails every command; one that does not
// parse counts as no saved logins for `get` and `list` (a debug line).
// Entries and fields this version does not know are written back as they were.

import { dirname, join } from "node:path";
import { isPlainObject, readJsonObject } from "./json.ts";
import { sweepStaleTemps, writeFileAtomic } from "./fsutil.ts";
import { STALE_TEMP_MS } from "./cache.ts";
import { withLock } from "./lock.ts";
import { directoryProblem, readTrusted } from "./trust.ts";

export interface StoredCredential {
  /** The server URL exactly as the client gave it to `store`; `list` returns it. */
  serverURL: string;
  username: string;
  secret: string;
  /**
   * Epoch milliseconds after which a saved cloud token is no longer served.
   * Absent for a real login (no expiry). Optional, so a release that does
   * not know it still reads the file.
   */
  expiresAt?: number;
}

interface StoreFile {
  version: 1;
  /** The entries this version understands. */
  credentials: Record<string, StoredCredential>;
  /** The whole document as read, written back with only the changed entry replaced. */
  raw: { credentials: Record<string, unknown> } & Record<string, unknown>;
}

export type ParsedStore = { ok: true; file: StoreFile } | { ok: false; reason: string };

export class StoreError extends Error {
  override name = "StoreError";
  /**
   * `unreadable`: the file is ours but does not parse (or is of a newer
   * version), so readers may go on without it; writers never may.
   */
  constructor(
    message: string,
    readonly unreadable = false,
  ) {
    super(message);
  }
}

const FORMAT_VERSION = 1;
// Generous: logins are rare, and each writer rewrites the whole file.
const STORE_LOCK_WAIT_MS = 30_000;
const STORE_POLL_MS = 50;

export class CredentialStore {
  readonly path: string;
  private readonly lockPath: string;

  constructor(
    dir: string,
    private readonly debug: (message: string) => void = () => {},
    private readonly lockWaitMs = STORE_LOCK_WAIT_MS,
  ) {
    this.path = join(dir, "credentials.json");
    this.lockPath = join(dir, "credentials.lock");
  }

  get(key: string): StoredCredential | null {
    return this.readLeniently().credentials[key] ?? null;
  }

  list(): Array<[string, StoredCredential]> {
    return Object.entries(this.readLeniently().credentials);
  }

  /** For reading only: a file that does not parse counts as no saved logins (it is left as it is). */
  private readLeniently(): StoreFile {
    try {
      return this.read();
    } catch (err) {
      if (!(err instanceof StoreError) || !err.unreadable) throw err;
      this.debug(err.message);
      return emptyStore();
    }
  }

  async put(key: string, credential: StoredCredential): Promise<void> {
    await this.update((file) => {
      file.raw.credentials[key] = { ...credential };
      return true;
    });
  }

  /** Removes the entry; false when there was none. */
  async remove(key: string): Promise<boolean> {
    return this.update((file) => {
      if (!(key in file.credentials)) return false;
      delete file.raw.credentials[key];
      return true;
    });
  }

  private async update(change: (file: StoreFile) => boolean): Promise<boolean> {
    return withLock(
      this.lockPath,
      {
        deadline: Date.now() + this.lockWaitMs,
        // Each writer rewrites the whole file: waiters poll gently, leaving the CPU to the one writing.
        pollMs: STORE_POLL_MS,
        waitingFor: `another process to update ${this.path}`,
      },
      async () => {
        sweepStaleTemps(dirname(this.path), STALE_TEMP_MS);
        const file = this.read();
        const changed = change(file);
        if (changed) writeFileAtomic(this.path, JSON.stringify({ ...file.raw, version: FORMAT_VERSION }, null, 2) + "\n");
        return changed;
      },
    );
  }

  private read(): StoreFile {
    const fail = (problem: string): never => {
      throw new StoreError(`the saved credentials file ${this.path} ${problem}; nothing was read or changed`);
    };
    const dir = dirname(this.path);
    const dirProblem = directoryProblem(dir);
    if (dirProblem !== null) throw new StoreError(`the directory ${dir} ${dirProblem}; saved credentials are not used`);
    let read;
    try {
      read = readTrusted(this.path);
    } catch (err) {
      return fail(`cannot be read (${(err as Error).message})`);
    }
    if ("missing" in read) return emptyStore();
    if ("untrusted" in read) return fail(read.untrusted);
    const parsed = parseStoreFile(read.text);
    if (parsed.ok) return parsed.file;
    throw new StoreError(
      `the saved credentials file ${this.path} ${parsed.reason} (fix it, or move it aside to start afresh); nothing was changed`,
      true,
    );
  }
}

/** Parses the store file; entries of a shape we do not know are kept in `raw` but not used. */
export function parseStoreFile(text: string): ParsedStore {
  // The problem without the parser's detail: it could quote the file, which holds secrets.
  const read = readJsonObject(text);
  if (!read.ok) return { ok: false, reason: `is ${read.problem}` };
  const data = read.value;
  const { version, credentials } = data;
  if (typeof version === "number" && version > FORMAT_VERSION) {
    return { ok: false, reason: `has format version ${version}, newer than this helper knows (${FORMAT_VERSION})` };
  }
  if (version !== FORMAT_VERSION) return { ok: false, reason: `has no known format version (expected "version": 1)` };
  if (!isPlainObject(credentials)) return { ok: false, reason: `has no "credentials" object` };
  const out: Record<string, StoredCredential> = Object.create(null);
  for (const [key, value] of Object.entries(credentials)) {
    if (!isPlainObject(value)) continue;
    const { serverURL, username, secret, expiresAt } = value;
    if (typeof serverURL === "string" && typeof username === "string" && typeof secret === "string") {
      const credential: StoredCredential = { serverURL, username, secret };
      // Not a finite number: kept, but as expired, never as permanent.
      if (expiresAt !== undefined)
        credential.expiresAt = typeof expiresAt === "number" && Number.isFinite(expiresAt) ? expiresAt : 0;
      out[key] = credential;
    }
  }
  return { ok: true, file: { version: 1, credentials: out, raw: { ...data, credentials: { ...credentials } } } };
}

function emptyStore(): StoreFile {
  return { version: 1, credentials: Object.create(null), raw: { credentials: {} } };
}

