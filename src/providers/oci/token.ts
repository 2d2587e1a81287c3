// The OCIR docker token: one signed GET of <base>/20180419/docker/token, signed
// once with the chosen identity (the seed provider signed a second time with
// the config-file identity). The status and the body are checked, and each
// failure says what a person can do about it. Nothing here logs the token or
// the Authorization header (for principals its key id holds a session token).

import type * as OciCommon from "oci-common";
import { ProviderError, type Context, type Credential } from "../../provider.ts";
import { isAbort, reason, type AuthProvider } from "./auth.ts";
import { fetchSignal, remainingMs, seconds, withDeadline } from "./deadline.ts";
import { TITLE } from "./settings.ts";
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
      throw err instanceof ProviderError
        ? err
        : new ProviderError(`${TITLE}: cannot sign the token request with ${req.who}: ${reason(err)}`);
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
    if (err instanceof BodyTooLargeError) throw new ProviderError(`${TITLE}: ${err.message}`);
    if (isAbort(err)) throw new ProviderError(`${TITLE}: ${req.url} did not answer within ${seconds(ms)}`);
    throw new ProviderError(`${TITLE}: cannot reach ${req.url}: ${reason(err)}`);
  }
  if (res.status !== 200) throw statusError(res.status, body, req);
  return parseTokenBody(body, req, ctx.now());
}

function statusError(status: number, body: string, req: TokenRequest): ProviderError {
  const detail = errorDetail(body);
  const said = detail ? ` (OCIR said: ${detail})` : "";
  switch (status) {
    case 401:
      return new ProviderError(
        `${TITLE}: ${req.registry} refused the signature of ${req.who} (HTTP 401)${said}; ` +
          `check that the key, fingerprint, user and tenancy match an API key uploaded in OCI, and the clock`,
      );
    case 403:
      return new ProviderError(
        `${TITLE}: ${req.who} is not allowed to pull from ${req.registry} (HTTP 403)${said}; ` +
          (req.who.includes("OKE workload identity")
            ? `an IAM policy must allow the workload, e.g. "Allow any-user to read repos in tenancy where all ` +
              `{request.principal.type='workload', request.principal.namespace='<ns>', ` +
              `request.principal.service_account='<sa>', request.principal.cluster_id='<cluster ocid>'}"`
            : `an IAM policy must allow it, e.g. "Allow group <group> to read repos in tenancy" ` +
              `(a dynamic group for instance or resource principals)`),
      );
    case 404:
      return new ProviderError(
        `${TITLE}: no token service at ${req.url} (HTTP 404)${said}; is ${req.registry} an OCIR registry?`,
      );
    case 429:
      return new ProviderError(`${TITLE}: ${req.registry} is rate limiting token requests (HTTP 429)${said}; try again shortly`);
    default:
      return new ProviderError(`${TITLE}: ${req.registry} answered HTTP ${status} to the token request${said}`);
  }
}

/** `{"code","message"}` (OCI) or `{"errors":[{"code","message"}]}` (registry), cut short. */
function errorDetail(body: string): string {
  try {
    const data: unknown = JSON.parse(body.slice(0, MAX_BODY_BYTES));
    const first = (Array.isArray((data as { errors?: unknown }).errors) ? (data as { errors: unknown[] }).errors[0] : data) as
      { code?: unknown; message?: unknown } | undefined;
    const parts = [first?.code, first?.message].filter((x): x is string => typeof x === "string" && x !== "");
    const text = parts.join(": ").replace(/\s+/g, " ").trim();
    return text.length > 200 ? text.slice(0, 197) + "..." : text;
  } catch {
    return "";
  }
}

/** `{"token","access_token","scope","expires_in"}`; the token and a positive lifetime are required. */
export function parseTokenBody(body: string, req: Pick<TokenRequest, "registry">, now: Date): Credential {
  const bad = (what: string) => new ProviderError(`${TITLE}: ${req.registry} sent an unusable token answer (${what})`);
  if (body.length > MAX_BODY_BYTES) throw bad("larger than 1 MiB");
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch {
    throw bad("not JSON");
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) throw bad("not a JSON object");
  const d = data as Record<string, unknown>;
  const token =
    typeof d.token === "string" && d.token !== "" ? d.token : typeof d.access_token === "string" ? d.access_token : "";
  if (token === "" || /\s/.test(token)) throw bad("no token");
  const expiresIn = d.expires_in;
  if (typeof expiresIn !== "number" || !Number.isFinite(expiresIn) || expiresIn <= 0) throw bad("no positive expires_in");
  return { username: USERNAME, secret: token, expiresAt: new Date(now.getTime() + expiresIn * 1000) };
}
