// Cloud tokens handed to `store`. `docker login <host>` without -u asks `get`
// and then stores what it was given; `aws ecr get-login-password | docker
// login -u AWS --password-stdin` stores a token the user fetched. Such a
// token expires: it is saved with an expiry and never served past it, so the
// cloud identity takes over again. A real password (any other user name) is
// saved as a permanent login.

import { cacheKey, jwtClaims, targetFor } from "./resolve.ts";
import type { Context, Provider } from "./provider.ts";
import type { RegistryHost } from "./registry.ts";
import type { CredentialStore, StoredCredential } from "./store.ts";
import type { TokenCache } from "./cache.ts";

/** What `store` does with a credential. */
export type SavePlan =
  /** The token `get` hands out now: nothing to save (and any older login for the host goes). */
  | { kind: "cached-token" }
  /** Saved; `expiresAt` (epoch ms) when it is a cloud token. */
  | { kind: "save"; expiresAt?: number }
  | { kind: "refuse"; message: string };

const DEFAULT_MAX_LIFE_MS = 3600_000;
const DEFAULT_MARGIN_MS = 60_000;

export function isTokenUser(provider: Provider, username: string): boolean {
  return provider.tokenUser !== undefined && username.toLowerCase() === provider.tokenUser.toLowerCase();
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
 * a cached token must have left (the provider's, or a minute).
 */
export function isExpired(saved: StoredCredential, provider: Provider, now: number): boolean {
  const expiry = savedExpiry(saved, provider);
  return expiry !== null && now + (provider.minRemainingMs ?? DEFAULT_MARGIN_MS) > expiry;
}

/** Decides what `store` does with `username`/`secret` for `host`. */
export function planSave(
  host: RegistryHost,
  credential: { username: string; secret: string },
  deps: { provider: Provider; store: CredentialStore; cache: TokenCache | null; ctx: Context },
): SavePlan {
  const { provider, store, cache, ctx } = deps;
  const target = targetFor(host, provider, ctx.config);
  if (target === null) return { kind: "save" };
  const now = ctx.now().getTime();
  if (cache !== null) {
    const entry = cache.read(cacheKey(provider, target, ctx));
    if (entry && entry.expiresAt > now && entry.username === credential.username && entry.secret === credential.secret) {
      return { kind: "cached-token" };
    }
  }
  if (!isTokenUser(provider, credential.username)) return { kind: "save" };
  const limit = now + (provider.tokenMaxLifeMs ?? DEFAULT_MAX_LIFE_MS);
  // The same token again (`docker login` without -u hands back what get served from the store):
  // its life does not start over.
  const previous = store.get(host.key);
  const same = previous && previous.username === credential.username && previous.secret === credential.secret;
  const before = same ? savedExpiry(previous, provider) : null;
  const expiresAt = Math.min(ownExpiry(credential.secret) ?? limit, before ?? limit, limit);
  if (expiresAt <= now) {
    return { kind: "refuse", message: `the ${provider.title} token given for ${host.key} has already expired; nothing saved` };
  }
  return { kind: "save", expiresAt };
}
