// Reads and rewrites the helper's token cache files, to age a cached token
// without waiting for hours.

import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface CachedToken {
  file: string;
  data: { secret: string; issuedAt: number; expiresAt: number; [k: string]: unknown };
}

export function cachedTokens(cacheDir: string): CachedToken[] {
  let names: string[] = [];
  try {
    names = readdirSync(cacheDir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith(".token.json"))
    .map((n) => ({ file: join(cacheDir, n), data: JSON.parse(readFileSync(join(cacheDir, n), "utf8")) }));
}

/** Rewrites the only cached token's times (epoch ms). */
export function ageCachedToken(cacheDir: string, times: { issuedAt: number; expiresAt: number }): CachedToken {
  const all = cachedTokens(cacheDir);
  if (all.length !== 1) throw new Error(`expected one cached token, found ${all.length}`);
  const entry = all[0]!;
  entry.data = { ...entry.data, ...times };
  writeFileSync(entry.file, JSON.stringify(entry.data) + "\n", { mode: 0o600 });
  return entry;
}
