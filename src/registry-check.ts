// Does a registry accept a credential? `GET /v2/` as a client would: Basic
// auth first; if the registry answers with a Bearer challenge, ask its token
// endpoint (only when that endpoint is on the registry's own host: a
// credential is never sent elsewhere) and try again with the bearer token.

import { parseWwwAuthenticate } from "./protocol/www-authenticate.ts";
import type { RegistryHost } from "./registry.ts";
import { readCapped } from "./body.ts";

export interface RegistryVerdict {
  ok: boolean;
  /** What happened, for a person; never contains the credential. */
  detail: string;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/;

export async function checkRegistryAccepts(
  host: RegistryHost,
  username: string,
  secret: string,
  signal: AbortSignal,
): Promise<RegistryVerdict> {
  // Like docker, a loopback registry may be plain http; everything else is https.
  const schemes = LOOPBACK.test(host.hostname) ? ["http", "https"] : ["https"];
  let lastError = "";
  for (const scheme of schemes) {
    const base = `${scheme}://${host.key}`;
    try {
      return await tryBase(base, host, username, secret, signal);
    } catch (err) {
      lastError = `${base}: ${(err as Error).message}`;
      if (signal.aborted) break;
    }
  }
  return { ok: false, detail: `cannot reach ${lastError}` };
}

async function tryBase(
  base: string,
  host: RegistryHost,
  username: string,
  secret: string,
  signal: AbortSignal,
): Promise<RegistryVerdict> {
  const basic = "Basic " + Buffer.from(`${username}:${secret}`).toString("base64");
  const first = await fetch(`${base}/v2/`, { headers: { authorization: basic }, redirect: "manual", signal });
  await first.body?.cancel();
  if (first.ok) return { ok: true, detail: `GET ${base}/v2/ with the credential: HTTP ${first.status}` };
  if (first.status !== 401) return { ok: false, detail: `GET ${base}/v2/ answered HTTP ${first.status}` };

  const bearer = parseWwwAuthenticate(first.headers.get("www-authenticate") ?? "").find((c) => c.scheme === "bearer");
  if (!bearer?.params.realm) return { ok: false, detail: `the registry refused the credential (HTTP 401 to GET ${base}/v2/)` };
  let realm: URL;
  try {
    realm = new URL(bearer.params.realm);
  } catch {
    return { ok: false, detail: "the registry's token realm is not a URL" };
  }
  if (realm.host.toLowerCase() !== host.key) {
    return {
      ok: false,
      detail: `the registry's token endpoint is on another host (${realm.host}); not sending the credential there`,
    };
  }
  if (bearer.params.service) realm.searchParams.set("service", bearer.params.service);
  const tokenRes = await fetch(realm, { headers: { authorization: basic }, redirect: "manual", signal });
  if (!tokenRes.ok) {
    await tokenRes.body?.cancel();
    return { ok: false, detail: `the registry's token endpoint refused the credential (HTTP ${tokenRes.status})` };
  }
  const body = (await readCapped(tokenRes)
    .then((text) => JSON.parse(text) as unknown)
    .catch(() => null)) as { token?: unknown; access_token?: unknown } | null;
  const token = typeof body?.token === "string" ? body.token : typeof body?.access_token === "string" ? body.access_token : null;
  if (!token) return { ok: false, detail: "the registry's token endpoint answered without a token" };
  const second = await fetch(`${base}/v2/`, { headers: { authorization: `Bearer ${token}` }, redirect: "manual", signal });
  await second.body?.cancel();
  return second.ok
    ? { ok: true, detail: `GET ${base}/v2/ with a registry token obtained with the credential: HTTP ${second.status}` }
    : { ok: false, detail: `the registry refused its own token (HTTP ${second.status})` };
}
