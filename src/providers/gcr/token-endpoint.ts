// One OAuth token request: POST a grant to a token endpoint, read a bounded
// answer, return its access_token and expiry. Shared by the STS exchange of a
// pod's token (sts.ts) and the JWT-bearer grant of a service-account key
// (service-account.ts). Redirects are refused: fetch would replay the body,
// which carries a credential, to wherever they point.

import { ProviderError, type Context } from "../../provider.ts";
import { readJsonObject } from "../../json.ts";
import { readCapped } from "../../body.ts";
import { describeGoogleError, scrub } from "./errors.ts";
import type { AccessToken } from "./plan.ts";

// A token answer is a few hundred bytes; anything larger is not one.
const MAX_BODY_BYTES = 1 << 16;

export interface TokenRequest {
  endpoint: string;
  contentType: string;
  body: string;
  /** For messages: "STS token exchange at sts.googleapis.com". */
  where: string;
  /** For a refusal: "the pod's token", "the key of ci@p.iam.gserviceaccount.com". */
  credential: string;
}

export async function requestAccessToken(req: TokenRequest, ctx: Context): Promise<AccessToken> {
  const { where } = req;
  let res: Response;
  try {
    res = await fetch(req.endpoint, {
      method: "POST",
      headers: { "Content-Type": req.contentType, Accept: "application/json" },
      body: req.body,
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
      `${where} refused ${req.credential}: ${describeGoogleError({ response: { status: res.status, data: text } })}`,
    );
  }
  const read = readJsonObject(text);
  if (!read.ok) throw new ProviderError(`${where}: the answer is ${read.problem} (${scrub(text, 80) || "empty body"})`);
  const d = read.value;
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
  // Read while counting: a server that never stops talking costs 1 MiB, not memory without end.
  return readCapped(res, MAX_BODY_BYTES);
}

export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
