// Credentials saved by `store` (docker login, skopeo login). One JSON file,
// 0600 in a 0700 directory, replaced atomically under a lock so concurrent
// logins do not lose each other's entries. A corrupt file is treated as
// empty (and replaced on the next write), never as a fatal error.

import { dirname, join } from "node:path";
import { readTextOrNull, sweepStaleTemps, writeFileAtomic } from "./fsutil.ts";
import { STALE_TEMP_MS } from "./cache.ts";
import { withLock } from "./lock.ts";

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
  credentials: Record<string, StoredCredential>;
}

const STORE_LOCK_WAIT_MS = 10_000;

export class CredentialStore {
  readonly path: string;
  private readonly lockPath: string;

  constructor(dir: string) {
    this.path = join(dir, "credentials.json");
    this.lockPath = join(dir, "credentials.lock");
  }

  get(key: string): StoredCredential | null {
    return this.read().credentials[key] ?? null;
  }

  list(): Array<[string, StoredCredential]> {
    return Object.entries(this.read().credentials);
  }

  async put(key: string, credential: StoredCredential): Promise<void> {
    await this.update((file) => {
      file.credentials[key] = credential;
      return true;
    });
  }

  /** Removes the entry; false when there was none. */
  async remove(key: string): Promise<boolean> {
    return this.update((file) => {
      if (!(key in file.credentials)) return false;
      delete file.credentials[key];
      return true;
    });
  }

  private async update(change: (file: StoreFile) => boolean): Promise<boolean> {
    return withLock(this.lockPath, { deadline: Date.now() + STORE_LOCK_WAIT_MS }, async () => {
      sweepStaleTemps(dirname(this.path), STALE_TEMP_MS);
      const file = this.read();
      const changed = change(file);
      if (changed) writeFileAtomic(this.path, JSON.stringify(file, null, 2) + "\n");
      return changed;
    });
  }

  private read(): StoreFile {
    const text = readTextOrNull(this.path);
    return text === null ? emptyStore() : parseStoreFile(text);
  }
}

/** Parses the store file; anything malformed yields an empty store. */
export function parseStoreFile(text: string): StoreFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return emptyStore();
  }
  if (typeof data !== "object" || data === null) return emptyStore();
  const { version, credentials } = data as { version?: unknown; credentials?: unknown };
  if (version !== 1 || typeof credentials !== "object" || credentials === null || Array.isArray(credentials)) {
    return emptyStore();
  }
  const out: Record<string, StoredCredential> = Object.create(null);
  for (const [key, value] of Object.entries(credentials as Record<string, unknown>)) {
    if (typeof value !== "object" || value === null) continue;
    const { serverURL, username, secret, expiresAt } = value as Record<string, unknown>;
    if (typeof serverURL === "string" && typeof username === "string" && typeof secret === "string") {
      const credential: StoredCredential = { serverURL, username, secret };
      // Not a finite number: kept, but as expired, never as permanent.
      if (expiresAt !== undefined)
        credential.expiresAt = typeof expiresAt === "number" && Number.isFinite(expiresAt) ? expiresAt : 0;
      out[key] = credential;
    }
  }
  return { version: 1, credentials: out };
}

function emptyStore(): StoreFile {
  return { version: 1, credentials: Object.create(null) };
}
