// What `store` does with a credential for a host this helper's cloud serves:
// nothing when it is the token `get` hands out now, a save with an expiry
// when it is a cloud token, a permanent save for a real password.

import type { TokenCache } from "./cache.ts";
import type { Context, Provider } from "./provider.ts";
import type { RegistryHost } from "./registry.ts";
import { cacheKey, targetFor } from "./resolve.ts";
import { isTokenUser, ownExpiry, savedExpiry } from "./saved-token.ts";
import type { CredentialStore } from "./store.ts";

/** What `store` does with a credential. */
export type SavePlan =
  /** The token `get` hands out now: nothing to save (and any older login for the host goes). */
  | { kind: "cached-token" }
  /** Saved; `expiresAt` (epoch ms) when it is a cloud token. */
  | { kind: "save"; expiresAt?: number }
  | { kind: "refuse"; message: string };

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
  const limit = now + provider.manifest.tokenMaxLifeMs;
  // The same token again (`docker login` without -u hands back what get served from the store):
  // its life does not start over.
  const previous = store.get(host.key);
  const same = previous && previous.username === credential.username && previous.secret === credential.secret;
  const before = same ? savedExpiry(previous, provider) : null;
  const expiresAt = Math.min(ownExpiry(credential.secret) ?? limit, before ?? limit, limit);
  if (expiresAt <= now) {
    return { kind: "refuse", message: `the ${provider.manifest.title} token given for ${host.key} has already expired; nothing saved` };
  }
  return { kind: "save", expiresAt };
}
