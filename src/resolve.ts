// stored credential > cached token > provider, with single flight across
// processes: on a cold or stale cache one process refreshes under a file
// lock while the others wait and read what it wrote.

import { checkSettingsKeys, type Config } from "./config.ts";
import { isFresh, isUsable, MIN_REMAINING_MS, readFailure, rememberFailure, type CacheEntry, type TokenCache } from "./cache.ts";
import { LockTimeoutError, withLock } from "./lock.ts";
import { sha256Hex } from "./hash.ts";
import { jwtClaims } from "./jwt.ts";
import type { Context, Credential, Plan, Provider, ServiceAccountIdentity, Target } from "./provider.ts";
import { ProviderError } from "./provider.ts";
import { summarize } from "./summary.ts";
import type { RegistryHost } from "./registry.ts";
import type { CredentialStore } from "./store.ts";
import { isExpired, savedExpiry } from "./saved-token.ts";

export type Source = "store" | "cache" | "cloud" | "stale-cache";
export type Resolution = { found: true; credential: Credential; source: Source; target: Target | null } | { found: false };

export interface ResolveDeps {
  provider: Provider;
  store: CredentialStore | null;
  cache: TokenCache | null;
  ctx: Context;
}

// A stored (docker login) credential has no expiry we know of.
const NEVER = new Date(8.64e15);

/**
 * The provider's view of a host, after aliases; null when the provider does
 * not serve it. A served host whose settings hold a key the provider does not
 * know is a ConfigError: never silently another provider's registry.
 */
export function targetFor(host: RegistryHost, provider: Provider, config: Config): Target | null {
  const settings = config.registries.get(host.key) ?? {};
  const registry = settings.alias ?? host.hostname;
  const details = provider.match(registry);
  if (details === null) return null;
  if (config.registries.has(host.key)) checkSettingsKeys(config, host.key, settings, provider.manifest.settingsKeys);
  return { host, registry, settings, details };
}

/** The provider's plan for a target. Its errors are the provider's: they carry its title like every other. */
export function planFor(provider: Provider, target: Target, ctx: Context): Plan {
  try {
    return provider.plan(target, ctx);
  } catch (err) {
    throw titled(provider, err);
  }
}

export function cacheKey(provider: Provider, target: Target, ctx: Context): string {
  return keysFor(provider, target, planFor(provider, target, ctx), ctx).token;
}

/**
 * The token's cache key, and the key its remembered failures are kept
 * under: per identity, not per host, since "no metadata server here" holds
 * for every registry a docker build asks about.
 */
function keysFor(provider: Provider, target: Target, plan: Plan, ctx: Context): { token: string; failure: string } {
  const who = [plan.key];
  // A pod's token is cached per service account, never shared with the node or another pod.
  if (plan.pod && ctx.serviceAccount) who.push(serviceAccountKey(ctx.serviceAccount));
  return {
    token: [provider.manifest.name, target.host.key, target.registry, ...who].join("|"),
    failure: [provider.manifest.name, "failure", ...who].join("|"),
  };
}

/** The one place a provider's title is put in front of its error. */
export function titled(provider: Provider, err: unknown): ProviderError {
  const message = `${provider.manifest.title}: ${summarize(err)}`;
  return new ProviderError(message, { recurForMs: err instanceof ProviderError ? err.recurForMs : 0 });
}

/**
 * Who the pod is: the token's subject and service account uid when it is a
 * readable JWT (stable across token rotation), else a hash of the token;
 * plus a hash of the annotations, which choose the role or client id.
 */
export function serviceAccountKey(sa: ServiceAccountIdentity): string {
  const annotations = JSON.stringify(Object.entries(sa.annotations).sort(([a], [b]) => (a < b ? -1 : 1)));
  const claims = jwtClaims(sa.token);
  const sub = typeof claims?.sub === "string" ? claims.sub : null;
  const k8s = claims?.["kubernetes.io"] as { serviceaccount?: { uid?: unknown } } | undefined;
  const uid = typeof k8s?.serviceaccount?.uid === "string" ? k8s.serviceaccount.uid : "";
  const who = sub ? `${sub}/${uid}` : `token:${sha256(sa.token)}`;
  return `sa:${sha256(who + "\n" + annotations).slice(0, 32)}`;
}

const sha256 = sha256Hex;

export async function resolveCredential(host: RegistryHost, deps: ResolveDeps): Promise<Resolution> {
  const { provider, store, ctx } = deps;
  const stored = store?.get(host.key);
  if (stored && isExpired(stored, provider, ctx.now().getTime())) {
    ctx.log.debug(`${host.key}: the token saved by store has expired; not using it`);
  } else if (stored) {
    ctx.log.debug(`${host.key}: using the credential saved by store`);
    return {
      found: true,
      credential: {
        username: stored.username,
        secret: stored.secret,
        expiresAt: new Date(savedExpiry(stored, provider) ?? NEVER),
      },
      source: "store",
      target: null,
    };
  }

  const target = targetFor(host, provider, ctx.config);
  if (target === null) {
    ctx.log.debug(`${host.key}: not a ${provider.manifest.title} host`);
    return { found: false };
  }
  const plan = planFor(provider, target, ctx);
  ctx.log.debug(`${host.key}: identity ${plan.source}`);

  try {
    return await resolveCloud(target, plan, deps);
  } catch (err) {
    if (plan.anonymousOnFailure) {
      ctx.log.debug(`${host.key}: ${summarize(err)}; answering not found so the client can pull anonymously`);
      return { found: false };
    }
    throw titled(provider, err);
  }
}

async function resolveCloud(target: Target, plan: Plan, deps: ResolveDeps): Promise<Resolution> {
  const { provider, cache, ctx } = deps;
  const minRemaining = MIN_REMAINING_MS;
  const found = (entry: CacheEntry, source: Source): Resolution => ({
    found: true,
    credential: { username: entry.username, secret: entry.secret, expiresAt: new Date(entry.expiresAt) },
    source,
    target,
  });

  if (cache === null) {
    const credential = await fetchWithDeadline(provider, target, plan, ctx);
    return { found: true, credential, source: "cloud", target };
  }

  const { token: key, failure: failures } = keysFor(provider, target, plan, ctx);
  const fresh = (e: CacheEntry | null): CacheEntry | null =>
    e !== null && isFresh(e, ctx.now().getTime(), minRemaining) ? e : null;

  const current = cache.read(key);
  const hit = fresh(current);
  if (hit) {
    ctx.log.debug(`${target.host.key}: cached token, expires ${new Date(hit.expiresAt).toISOString()}`);
    return found(hit, "cache");
  }

  // A failure that surely recurs (no metadata server off the cloud) is answered
  // from memory for a while, unless a still-usable token can be served instead.
  if (!ctx.askAgain && !(current && isUsable(current, ctx.now().getTime(), minRemaining))) {
    const remembered = readFailure(cache, failures, ctx.now().getTime());
    if (remembered) {
      const left = Math.ceil((remembered.until - ctx.now().getTime()) / 1000);
      throw new ProviderError(
        `${remembered.message} (remembered: not asked again for ${left}s; CCH_DISABLE_CACHE=true asks now)`,
      );
    }
  }

  const refreshUnderLock = (): Promise<Resolution> =>
    withLock(
      cache.lockFor(key),
      {
        deadline: ctx.deadline,
        now: () => ctx.now().getTime(),
        // A read-only or full disk must not cost the answer.
        withoutLock: (reason) => ctx.log.debug(`${target.host.key}: ${reason}; fetching the token without the lock`),
      },
      async () => {
        const again = cache.read(key);
        const now = ctx.now().getTime();
        if (again && isFresh(again, now, minRemaining)) return found(again, "cache");
        try {
          // When the fetch began: a logout (erase) after this moment discards the token.
          const issuedAt = ctx.now().getTime();
          const credential = await fetchWithDeadline(provider, target, plan, ctx);
          ctx.log.secret(credential.secret);
          const entry: CacheEntry = {
            key,
            provider: provider.manifest.name,
            host: target.host.key,
            username: credential.username,
            secret: credential.secret,
            issuedAt,
            expiresAt: credential.expiresAt.getTime(),
          };
          if (isUsable(entry, ctx.now().getTime(), minRemaining)) {
            try {
              cache.write(entry);
            } catch (err) {
              ctx.log.debug(`could not write the token cache: ${summarize(err)}`);
            }
          } else {
            ctx.log.debug(`${target.host.key}: the token has less than ${minRemaining / 1000}s left; not caching it`);
          }
          return { found: true, credential, source: "cloud", target } satisfies Resolution;
        } catch (err) {
          if (err instanceof ProviderError && err.recurForMs > 0) {
            try {
              rememberFailure(cache, failures, { message: err.message, until: ctx.now().getTime() + err.recurForMs });
            } catch (writeErr) {
              ctx.log.debug(`could not remember the failure: ${summarize(writeErr)}`);
            }
          }
          if (again && isUsable(again, ctx.now().getTime(), minRemaining)) {
            ctx.log.debug(
              `${target.host.key}: refresh failed (${summarize(err)}); serving the cached token, valid until ${new Date(again.expiresAt).toISOString()}`,
            );
            return found(again, "stale-cache");
          }
          throw err;
        }
      },
      () => {
        const e = fresh(cache.read(key));
        return e ? found(e, "cache") : null;
      },
    );

  try {
    return await refreshUnderLock();
  } catch (err) {
    if (!(err instanceof LockTimeoutError)) throw err;
    const current = cache.read(key);
    if (current && isUsable(current, ctx.now().getTime(), minRemaining)) return found(current, "stale-cache");
    throw new ProviderError(err.message);
  }
}

/**
 * The provider's own deadline handling (ctx.signal) gets this long to report
 * which call was silent before the generic message wins.
 */
const DEADLINE_GRACE_MS = 250;

/**
 * Runs the provider's fetch, and rejects shortly after the deadline even if
 * the provider ignores the signal. Refuses an expired token, and in
 * service-account mode the pod's own token, before anything can cache it.
 */
export async function fetchWithDeadline(provider: Provider, target: Target, plan: Plan, ctx: Context): Promise<Credential> {
  const remaining = ctx.deadline - ctx.now().getTime();
  if (remaining <= 0) throw new ProviderError("timed out before asking for a token");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new ProviderError(`no answer within ${Math.round(remaining / 100) / 10}s (deadline reached)`)),
      remaining + DEADLINE_GRACE_MS,
    );
  });
  try {
    const credential = await Promise.race([provider.fetch(target, plan, ctx), timeout]);
    if (credential.expiresAt.getTime() <= ctx.now().getTime()) {
      throw new ProviderError("the token it returned has already expired");
    }
    if (ctx.serviceAccount && credential.secret === ctx.serviceAccount.token) {
      throw new ProviderError("refusing to return the service account token itself as a registry password");
    }
    return credential;
  } finally {
    clearTimeout(timer);
  }
}
