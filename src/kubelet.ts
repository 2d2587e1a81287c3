// Kubelet credential provider mode: one CredentialProviderRequest on stdin,
// one CredentialProviderResponse on stdout, nothing else there. Failures are
// exit 1 with one line on stderr (kubelet logs it and caches nothing).

import {
  encodeKubeletResponse,
  imageHost,
  kubeletCacheDurationMs,
  parseKubeletRequest,
  type AuthConfig,
} from "./protocol/kubelet.ts";
import { MIN_REMAINING_MS } from "./cache.ts";
import { resolveCredential, targetFor, type Source } from "./resolve.ts";
import { summarize } from "./summary.ts";
import type { Context, Provider, ServiceAccountIdentity } from "./provider.ts";
import type { CredentialStore } from "./store.ts";
import type { TokenCache } from "./cache.ts";

export interface KubeletDeps {
  provider: Provider;
  helperName: string;
  store: CredentialStore | null;
  cache: TokenCache | null;
  context(extra: Partial<Context>): Context;
}

export interface KubeletOutcome {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Kubelet keeps a credential at most this long, whatever its life. */
const MAX_CACHE_MS = 6 * 3600_000;
/** A login saved by `store` has no known expiry: let kubelet re-ask every few minutes. */
const STORED_CACHE_MS = 5 * 60_000;

export async function runKubeletRequest(stdin: string, deps: KubeletDeps): Promise<KubeletOutcome> {
  const fail = (message: string): KubeletOutcome => ({ stdout: "", stderr: `${deps.helperName}: ${message}\n`, exitCode: 1 });
  const parsed = parseKubeletRequest(stdin);
  if (!parsed.ok) return fail(parsed.message);
  const { request } = parsed;
  const empty = (): KubeletOutcome => ({ stdout: encodeKubeletResponse(request.apiVersion, 0, {}), stderr: "", exitCode: 0 });

  const host = imageHost(request.image);
  if (!host.ok) return empty();

  const serviceAccount: ServiceAccountIdentity | undefined = request.serviceAccountToken
    ? { token: request.serviceAccountToken, annotations: request.serviceAccountAnnotations ?? {} }
    : undefined;

  try {
    const ctx = deps.context(serviceAccount ? { serviceAccount } : {});
    if (serviceAccount) {
      ctx.log.secret(serviceAccount.token);
      if (targetFor(host.host, deps.provider, ctx.config) === null) return empty();
    }
    // In service-account mode the pod's identity is used, never a login saved on the node.
    const result = await resolveCredential(host.host, {
      provider: deps.provider,
      store: serviceAccount ? null : deps.store,
      cache: deps.cache,
      ctx,
    });
    if (!result.found) return empty();
    const { credential, source } = result;
    if (serviceAccount && credential.secret === serviceAccount.token) {
      return fail("refusing to return the service account token itself as a registry password");
    }
    const auth: Record<string, AuthConfig> = { [host.host.key]: { username: credential.username, password: credential.secret } };
    const now = ctx.now();
    if (source !== "store" && credential.expiresAt.getTime() - now.getTime() < MIN_REMAINING_MS) {
      return fail("the credential is too close to its expiry to hand to kubelet");
    }
    const duration = cacheDurationFor(source, credential.expiresAt, now);
    ctx.log.debug(`kubelet: ${request.image} → ${host.host.key} from ${source}`);
    return { stdout: encodeKubeletResponse(request.apiVersion, duration, auth), stderr: "", exitCode: 0 };
  } catch (err) {
    return fail(summarize(err));
  }
}

/**
 * Half the token's remaining life (capped): kubelet's cache ends well before
 * the token expires, and with the least life served (10 s) it still holds it 5 s.
 */
function cacheDurationFor(source: Source, expiresAt: Date, now: Date): number {
  if (source === "store") return STORED_CACHE_MS;
  return kubeletCacheDurationMs(expiresAt, now, MAX_CACHE_MS);
}
