// The OCIR docker token: one signed GET of <base>/20180419/docker/token, signed
// once with the chosen identity (the seed provider signed a second time with
// the config-file identity). The status and the body are checked, and each
// failure says what a person can do about it. Nothing here logs the token or
// the Authorization header (for principals its key id holds a session token).

import type * as OciCommon from "oci-common";
import { readJsonObject } from "../../json.ts";
import { ProviderError, type Context, type Credential } from "../../provider.ts";
import type { AuthProvider } from "./auth.ts";
import { isAbort, reason, statusError } from "./errors.ts";
import { fetchSignal, remainingMs, seconds, withDeadline } from "./deadline.ts";

import { BodyTooLargeError, readCapped } from "../../body.ts";

export const TOKEN_PATH = "/20180419/docker/token";
export const USERNAME = "BEARER_TOKEN";
const MAX_BODY_BYTES = 1 << 20;

export interface TokenRequest {
  url: string;
  /** The registry the token is for, for messages. */
  registry: string;
  /** Who signs, for messages. */
  who: string;
}

export async function requestToken(
  common: typeof OciCommon,
  auth: AuthProvider,
  req: TokenRequest,
  ctx: Context,
): Promise<Credential> {
  const headers = new Headers({ accept: "application/json" });
  const sign = async () => {
    // The constructor parses the private key: a bad key file fails here, and gets the same message.
    const signer = new common.DefaultRequestSigner(auth);
    // signHttpRequest is async though typed void; for principals it first fetches a session token.
    await signer.signHttpRequest({ method: "GET", uri: req.url, headers });
  };
  await withDeadline(
    sign().catch((err: unknown) => {
      // An answer over the limit (oci-common's reads are capped by fetch.ts) is said with what it was for.
      throw err instanceof ProviderError && !(err instanceof BodyTooLargeError)
        ? err
        : new ProviderError(`cannot sign the token request with ${req.who}: ${reason(err)}`);
    }),
    ctx,
    // Only principals reach the network here (a session token from the auth service).
    `the OCI auth service, asked for a session token for ${req.who},`,
  );

  const ms = remainingMs(ctx);
  let res: Response;
  let body: string;
  try {
    // No redirects: the signature is for this host, and so is the token.
    res = await fetch(req.url, { method: "GET", headers, redirect: "manual", signal: fetchSignal(ctx, ms) });
    body = await readCapped(res, MAX_BODY_BYTES);
  } catch (err) {
    if (err instanceof BodyTooLargeError) throw new ProviderError(`${err.message}`);
    if (isAbort(err)) throw new ProviderError(`${req.url} did not answer within ${seconds(ms)}`);
    throw new ProviderError(`cannot reach ${req.url}: ${reason(err)}`);
  }
  if (res.status !== 200) throw statusError(res.status, body, req);
  return parseTokenBody(body, req, ctx.now());
}

/** `{"token","access_token","scope","expires_in"}`; the token and a positive lifetime are required. */
export function parseTokenBody(body: string, req: Pick<TokenRequest, "registry">, now: Date): Credential {
  const bad = (what: string) => new ProviderError(`${req.registry} sent an unusable token answer (${what})`);
  if (body.length > MAX_BODY_BYTES) throw bad("larger than 1 MiB");
  const read = readJsonObject(body);
  if (!read.ok) throw bad(read.problem);
  const d = read.value;
  const token =
    typeof d.token === "string" && d.token !== "" ? d.token : typeof d.access_token === "string" ? d.access_token : "";
  if (token === "" || /\s/.test(token)) throw bad("no token");
  const expiresIn = d.expires_in;
  if (typeof expiresIn !== "number" || !Number.isFinite(expiresIn) || expiresIn <= 0) throw bad("no positive expires_in");
  return { username: USERNAME, secret: token, expiresAt: new Date(now.getTime() + expiresIn * 1000) };
}
