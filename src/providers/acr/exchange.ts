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
import { describeSource, planIdentity } from "./identity.ts";
import { jwtExpiry, jwtStringClaim } from "./jwt.ts";
import { readAcrSettings } from "./settings.ts";
import { readCapped } from "../../body.ts";

export const ACR_USERNAME = "00000000-0000-0000-0000-000000000000";
const TITLE = "Azure Container Registry";
const MAX_BODY = 256 * 1024;
const EARLY_MS = 250;

export interface ExchangeDeps {
  getEntraToken: typeof getEntraToken;
}

export async function fetchAcrCredential(
  target: Target<AcrLoginServer>,
  outer: Context,
  deps: ExchangeDeps = { getEntraToken },
): Promise<Credential> {
  const ctx = finishEarly(outer);
  const settings = readAcrSettings(target.settings, target.host.key);
  const plan = planIdentity(ctx.env, settings, target.details.cloud, ctx.serviceAccount);
  const endpoint = settings.endpoint ?? new URL(`https://${target.registry}`);
  const login = target.registry;

  const challenge = await askChallenge(endpoint, login, ctx);
  ctx.log.debug(
    `${login}: challenge from ${endpoint.origin}: service "${challenge.service}", exchange at ${challenge.exchangeUrl}`,
  );

  const entra = await deps.getEntraToken(plan, ctx, login);
  const refreshToken = await exchange(challenge, entra, login, ctx);
  ctx.log.secret(refreshToken);
  if (ctx.serviceAccount && refreshToken === ctx.serviceAccount.token) {
    // A broken or hostile front end echoing the pod's token: never cache it, never hand it out.
    throw new ProviderError(`${TITLE}: ${login} answered the token exchange with the pod's own service account token`);
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
    throw new ProviderError(`${TITLE}: ${url.origin}/v2/ failed with HTTP ${res.status} (a server error at the registry)`);
  }
  if (res.status !== 401) {
    throw new ProviderError(
      `${TITLE}: unexpected answer from ${url.origin}/v2/: HTTP ${res.status} where a 401 challenge was expected (is ${login} an ACR login server?)`,
    );
  }
  const checked = readAcrChallenge(res.headers.get("www-authenticate"), endpoint, login);
  if (!checked.ok) throw new ProviderError(`${TITLE}: unexpected challenge from ${url.origin}/v2/: ${checked.problem}`);
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
      `${TITLE}: ${login} failed the token exchange with HTTP ${res.status} (a server error; kubelet and docker ask again later)`,
    );
  }
  if (res.status !== 200) {
    const detail = registryErrorDetail(body, [entra.token]);
    const hint = res.status === 401 || res.status === 403 ? `; does this identity have the AcrPull role on ${login}?` : "";
    throw new ProviderError(
      `${TITLE}: ${login} refused the token exchange for ${describeSource(entra.source)} (HTTP ${res.status}${detail ? `: ${detail}` : ""})${hint}`,
    );
  }
  let refresh: unknown;
  try {
    refresh = (JSON.parse(body) as { refresh_token?: unknown } | null)?.refresh_token;
  } catch {
    throw new ProviderError(`${TITLE}: ${login} answered the token exchange with a body that is not JSON`);
  }
  if (typeof refresh !== "string" || refresh === "" || /\s/.test(refresh)) {
    throw new ProviderError(`${TITLE}: ${login} answered the token exchange without a refresh token`);
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

/** `{"errors":[{"code","message"}]}` (the Distribution error shape ACR uses), or OAuth `{"error","error_description"}`. */
function registryErrorDetail(body: string, secrets: string[]): string {
  let text = "";
  try {
    const data = JSON.parse(body) as Record<string, unknown>;
    const first = Array.isArray(data.errors) ? (data.errors[0] as Record<string, unknown> | undefined) : undefined;
    if (first) text = [first.code, first.message].filter((x) => typeof x === "string" && x).join(": ");
    else if (typeof data.error === "string")
      text = [data.error, data.error_description].filter((x) => typeof x === "string" && x).join(": ");
  } catch {
    // Not JSON: say nothing rather than echo an unknown body.
  }
  for (const s of secrets) text = text.split(s).join("[redacted]");
  // Anything shaped like a JWT is masked too: a front end may echo tokens back.
  text = text.replace(/eyJ[\w-]*\.[\w-]*\.[\w-]*/g, "[redacted]").replace(/[\u0000-\u001f\u007f]+/g, " ");
  return text.length > 200 ? text.slice(0, 200) + "…" : text;
}

function networkError(what: string, err: unknown, ctx: Context): ProviderError {
  if (ctx.signal.aborted) return new ProviderError(`${TITLE}: ${what}: no answer before the deadline`);
  const cause = err instanceof Error ? err.message.split("\n")[0] : String(err);
  return new ProviderError(`${TITLE}: ${what}: ${cause}`);
}
