// The STS token exchange of a pod's service account token (RFC 8693 as Google
// STS speaks it), with the request cloud-provider-gcp's auth-provider-gcp
// sends: a JSON body, grant type token-exchange, subject token type jwt,
// requested type access_token, scope cloud-platform. Loaded only by fetch.

import { ProviderError, type Context } from "../../provider.ts";
import { describeGoogleError, scrub } from "./errors.ts";
import type { AccessToken } from "./token.ts";
import { readCapped } from "../../body.ts";

export const TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange";
export const JWT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:jwt";
export const ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token";
const CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform";
// An STS answer is a few hundred bytes; anything larger is not one.
const MAX_BODY_BYTES = 1 << 16;

export interface ExchangeInput {
  subjectToken: string;
  audience: string;
  endpoint: string;
}

export async function exchangePodToken(input: ExchangeInput, ctx: Context): Promise<AccessToken> {
  const where = `STS token exchange at ${hostOf(input.endpoint)}`;
  let res: Response;
  try {
    res = await fetch(input.endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({
        audience: input.audience,
        grant_type: TOKEN_EXCHANGE_GRANT,
        requested_token_type: ACCESS_TOKEN_TYPE,
        scope: CLOUD_PLATFORM_SCOPE,
        subject_token: input.subjectToken,
        subject_token_type: JWT_TOKEN_TYPE,
      }),
      signal: ctx.signal,
      redirect: "error",
    });
  } catch (err) {
    if (ctx.signal.aborted) throw new ProviderError(`${where}: no answer before the deadline`);
    throw new ProviderError(`${where} failed: ${describeGoogleError(err)}`);
  }
  let text: string;
  try {
    text = await readLimited(res);
  } catch (err) {
    if (ctx.signal.aborted) throw new ProviderError(`${where}: no complete answer before the deadline`);
    throw new ProviderError(`${where}: ${err instanceof ProviderError ? err.message : describeGoogleError(err)}`);
  }
  if (!res.ok) {
    throw new ProviderError(
      `${where} refused the pod's token: ${describeGoogleError({ response: { status: res.status, data: text } })}`,
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new ProviderError(`${where}: the answer is not JSON (${scrub(text).slice(0, 80) || "empty body"})`);
  }
  const d = (typeof data === "object" && data !== null ? data : {}) as Record<string, unknown>;
  const token = d.access_token;
  if (typeof token !== "string" || token === "") throw new ProviderError(`${where}: the answer has no access_token`);
  ctx.log.secret(token);
  const expiresIn = typeof d.expires_in === "string" ? Number(d.expires_in) : d.expires_in;
  if (typeof expiresIn !== "number" || !Number.isFinite(expiresIn)) {
    throw new ProviderError(`${where}: the answer has no valid expires_in`);
  }
  if (expiresIn <= 0) throw new ProviderError(`${where}: the token it returned has already expired (expires_in ${expiresIn})`);
  return { token, expiresAt: new Date(ctx.now().getTime() + expiresIn * 1000) };
}

async function readLimited(res: Response): Promise<string> {
  return readCapped(res, MAX_BODY_BYTES);
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
