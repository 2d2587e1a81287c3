// Cloud tokens handed to `store`. `docker login <host>` without -u asks `get`
// and then stores what it was given; `aws ecr get-login-password | docker
// login -u AWS --password-stdin` stores a token the user fetched. Such a
// token expires: it is saved with an expiry and never served past it, so the
// cloud identity takes over again. A real password (any other user name) is
// saved as a permanent login.

import { jwtClaims } from "./jwt.ts";
import { MIN_REMAINING_MS } from "./cache.ts";
import type { Provider } from "./provider.ts";
import type { StoredCredential } from "./store.ts";

export function isTokenUser(provider: Provider, username: string): boolean {
  return username.toLowerCase() === provider.manifest.tokenUser.toLowerCase();
}

/**
 * The expiry a token carries itself, in epoch ms: a JWT's `exp` (ACR refresh
 * tokens, OCIR tokens), or the `expiration` (seconds) inside an ECR password
 * (base64 of a JSON document). Null when it carries none we can read.
 */
export function ownExpiry(secret: string): number | null {
  const exp = jwtClaims(secret)?.exp;
  if (typeof exp === "number" && Number.isFinite(exp)) return exp * 1000;
  if (!/^[A-Za-z0-9+/]+=*$/.test(secret) || secret.length > 16_384) return null;
  try {
    const doc: unknown = JSON.parse(Buffer.from(secret, "base64").toString("utf8"));
    const expiration = (doc as { expiration?: unknown } | null)?.expiration;
    return typeof expiration === "number" && Number.isFinite(expiration) ? expiration * 1000 : null;
  } catch {
    return null;
  }
}

/**
 * Whether a saved credential may no longer be served. One saved with an
 * expiry expires then. One saved by an earlier release under the cloud's
 * token user has no recorded expiry: it expires when the token says so.
 */
export function savedExpiry(saved: StoredCredential, provider: Provider): number | null {
  if (saved.expiresAt !== undefined) return saved.expiresAt;
  return isTokenUser(provider, saved.username) ? ownExpiry(saved.secret) : null;
}

/**
 * Past its expiry, or too close to it to start a pull with: the same margin
 * a cached token must have left.
 */
export function isExpired(saved: StoredCredential, provider: Provider, now: number): boolean {
  const expiry = savedExpiry(saved, provider);
  return expiry !== null && now + MIN_REMAINING_MS > expiry;
}
