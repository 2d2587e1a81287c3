// The ACR token exchange, with plain fetch (the Azure HTTP pipeline refuses
// http, which a private or test front end may use on loopback):
//
//   1. GET <endpoint>/v2/            → 401, Www-Authenticate: Bearer realm=…,service=…
//   2. Entra ID token for https://containerregistry.azure.net/.default
//   3. POST <realm origin>/oauth2/exchange (form: grant_type=access_token,
//      service, access_token, tenant)  → {"refresh_token": …}
//   4. username 00000000-0000-0000-0000-000000000000, password the refresh
//      token, valid until its JWT `exp`.
//
// The challenge is checked before the SDK is even loaded, so a bad or hostile
// front end costs no Entra ID call and receives no token. Redirects are never
// followed: fetch would replay the POST body (the token) to wherever it points.

import type { Context, Credential, Target } from "../../provider.ts";
import { ProviderError } from "../../provider.ts";
import { readAcrChallenge, type AcrChallenge } from "./challenge.ts";
import { getEntraToken, type EntraToken } from "./entra.ts";
import type { AcrLoginServer } from "./hosts.ts";
import { networkError, registryErrorDetail } from "./errors.ts";
import { describeSource } from "./plan.ts";
import type { AcrPlan } from "./plan.ts";
import { jwtClaims, jwtExpiry, jwtStringClaim } from "../../jwt.ts";
import { CLOUD_NAMES, cloudsOfIssuer, crossCloudMessage } from "./cloud.ts";
import type { AzureCloud } from "./hosts.ts";
import { managedIdentityEndpoint } from "./managed-identity.ts";
import { readCapped } from "../../body.ts";

export const ACR_USERNAME = "00000000-0000-0000-0000-000000000000";
const MAX_BODY = 256 * 1024;
const EARLY_MS = 250;

export interface ExchangeDeps {
  getEntraToken: typeof getEntraToken;
}

export async function fetchAcrCredential(
  target: Target<AcrLoginServer>,
  acrPlan: AcrPlan,
  outer: Context,
  deps: ExchangeDeps = { getEntraToken },
): Promise<Credential> {
  const ctx = finishEarly(outer);
  const { settings, identity: plan } = acrPlan;
  const endpoint = settings.endpoint ?? new URL(`https://${target.registry}`);
  const login = target.registry;

  const challenge = await askChallenge(endpoint, login, ctx);
  ctx.log.debug(
    `${login}: challenge from ${endpoint.origin}: service "${challenge.service}", exchange at ${challenge.exchangeUrl}`,
  );

  const entra = await deps.getEntraToken(plan, ctx, login);
  // Before the token leaves: never to a registry of another cloud than its own (cloud.ts).
  await checkTokenCloud(entra, target.details.cloud, login, ctx);
  const refreshToken = await exchange(challenge, entra, login, ctx);
  ctx.log.secret(refreshToken);
  if (ctx.serviceAccount && refreshToken === ctx.serviceAccount.token) {
    // A broken or hostile front end echoing the pod's token: never cache it, never hand it out.
    throw new ProviderError(`${login} answered the token exchange with the pod's own service account token`);
  }

  const expiresAt = jwtExpiry(refreshToken);
  if (expiresAt === null) {
    // Not a JWT we can read: trust it no longer than the Entra token it came from.
    ctx.log.debug(`${login}: the refresh token has no readable exp; using the Entra ID token's expiry`);
    return { username: ACR_USERNAME, secret: refreshToken, expiresAt: new Date(entra.expiresOnTimestamp) };
  }
  return { username: ACR_USERNAME, secret: refreshToken, expiresAt };
}

/**
 * The resolver gives up at the deadline with a message that cannot say which
 * step was waiting. Stopping a moment earlier lets ours (the challenge, Entra
 * ID, the managed-identity endpoint or the exchange; silent or failing) be
 * the one the user reads.
 */
export function finishEarly(ctx: Context): Context {
  const remaining = ctx.deadline - ctx.now().getTime();
  const margin = Math.min(EARLY_MS, Math.max(0, Math.floor(remaining / 10)));
  if (margin === 0) return ctx;
  const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(remaining - margin)]);
  return { ...ctx, deadline: ctx.deadline - margin, signal };
}

async function askChallenge(endpoint: URL, login: string, ctx: Context): Promise<AcrChallenge> {
  const url = new URL("/v2/", endpoint);
  let res: Response;
  try {
    res = await fetch(url, { method: "GET", redirect: "manual", signal: ctx.signal });
  } catch (err) {
    throw networkError(`could not reach ${endpoint.origin}`, err, ctx);
  }
  await res.body?.cancel().catch(() => {});
  if (res.status >= 500) {
    throw new ProviderError(`${url.origin}/v2/ failed with HTTP ${res.status} (a server error at the registry)`);
  }
  if (res.status !== 401) {
    throw new ProviderError(
      `unexpected answer from ${url.origin}/v2/: HTTP ${res.status} where a 401 challenge was expected (is ${login} an ACR login server?)`,
    );
  }
  const checked = readAcrChallenge(res.headers.get("www-authenticate"), endpoint, login);
  if (!checked.ok) throw new ProviderError(`unexpected challenge from ${url.origin}/v2/: ${checked.problem}`);
  return checked.challenge;
}

async function exchange(challenge: AcrChallenge, entra: EntraToken, login: string, ctx: Context): Promise<string> {
  const form = new URLSearchParams({ grant_type: "access_token", service: challenge.service, access_token: entra.token });
  const tenant = entra.source.tenantId ?? jwtStringClaim(entra.token, "tid");
  if (tenant) form.set("tenant", tenant);

  let res: Response;
  try {
    res = await fetch(challenge.exchangeUrl, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: form.toString(),
      redirect: "manual",
      signal: ctx.signal,
    });
  } catch (err) {
    throw networkError(`could not reach ${challenge.exchangeUrl.origin} for the token exchange`, err, ctx);
  }
  const body = await readBody(res, ctx);
  if (res.status >= 500) {
    throw new ProviderError(
      `${login} failed the token exchange with HTTP ${res.status} (a server error; kubelet and docker ask again later)`,
    );
  }
  if (res.status !== 200) {
    const detail = registryErrorDetail(body, [entra.token]);
    const hint = res.status === 401 || res.status === 403 ? `; does this identity have the AcrPull role on ${login}?` : "";
    throw new ProviderError(
      `${login} refused the token exchange for ${describeSource(entra.source)} (HTTP ${res.status}${detail ? `: ${detail}` : ""})${hint}`,
    );
  }
  let refresh: unknown;
  try {
    refresh = (JSON.parse(body) as { refresh_token?: unknown } | null)?.refresh_token;
  } catch {
    throw new ProviderError(`${login} answered the token exchange with a body that is not JSON`);
  }
  if (typeof refresh !== "string" || refresh === "" || /\s/.test(refresh)) {
    throw new ProviderError(`${login} answered the token exchange without a refresh token`);
  }
  return refresh;
}

async function readBody(res: Response, ctx: Context): Promise<string> {
  try {
    return await readCapped(res, MAX_BODY, { truncate: true });
  } catch (err) {
    throw networkError("the token exchange answer was cut short", err, ctx);
  }
}

/**
 * The Entra ID token's issuer names its cloud; a token of another cloud than
 * the registry's is refused here, before the exchange. An issuer we do not
 * know (a custom authority) is not judged. A managed identity's version 1
 * token (issuer sts.windows.net) may be the public cloud's or Azure
 * Government's: for an azurecr.us registry the instance metadata service says
 * which cloud the machine is in.
 */
async function checkTokenCloud(entra: EntraToken, cloud: AzureCloud, login: string, ctx: Context): Promise<void> {
  const clouds = cloudsOfIssuer(jwtClaims(entra.token)?.iss);
  if (clouds === null) return;
  const who = describeSource(entra.source);
  if (!clouds.includes(cloud)) {
    throw new ProviderError(crossCloudMessage(who, clouds[0]!, login, cloud, `use an identity of ${CLOUD_NAMES[cloud]}`));
  }
  // Ambiguous only between the public cloud and Azure Government; asked only when it matters (an azurecr.us registry).
  if (clouds.length === 1 || cloud !== "usgov" || entra.source.kind !== "managed-identity") return;
  const machine = await machineCloud(ctx);
  if (machine !== cloud) {
    throw new ProviderError(
      machine === null
        ? `${who}: its token's issuer (sts.windows.net) does not say whether it is ${CLOUD_NAMES.public}'s or ${CLOUD_NAMES.usgov}'s, and no instance metadata service said; it is not sent to ${login}`
        : crossCloudMessage(who, machine, login, cloud, `use an identity of ${CLOUD_NAMES[cloud]}`),
    );
  }
}

const AZ_ENVIRONMENTS: Readonly<Record<string, AzureCloud>> = {
  azurepubliccloud: "public",
  azureusgovernmentcloud: "usgov",
  azurechinacloud: "china",
  azuregermancloud: "germany",
};

/** The cloud this virtual machine is in (IMDS compute/azEnvironment), or null when no IMDS answers it. */
async function machineCloud(ctx: Context): Promise<AzureCloud | null> {
  const mi = managedIdentityEndpoint(ctx.env);
  if (mi.kind !== "IMDS") return null;
  const url = new URL("/metadata/instance/compute/azEnvironment?api-version=2021-02-01&format=text", mi.endpoint);
  try {
    const res = await fetch(url, { headers: { Metadata: "true" }, redirect: "manual", signal: ctx.signal });
    const text = (await readCapped(res, 1024, { truncate: true })).trim().toLowerCase().slice(0, 64);
    return res.ok ? (AZ_ENVIRONMENTS[text] ?? null) : null;
  } catch {
    return null;
  }
}
