// The node's access token from the metadata server, asked directly rather than
// through google-auth-library's Compute client, whose failures were found
// wrong under fault injection: `expires_in: 0` became a token with no expiry
// (served as valid), a body that is not JSON threw "Attempted to assign to
// readonly property", and gcp-metadata's own retries of a 500 ran past our
// deadline so the user read "no answer" instead of "HTTP 500".

import { ProviderError, type Context } from "../../provider.ts";
import { readJsonObject } from "../../json.ts";
import { scrub } from "./errors.ts";
import type { AccessToken } from "./plan.ts";
import { BodyTooLargeError, readCapped } from "../../body.ts";

const TOKEN_PATH = "/computeMetadata/v1/instance/service-accounts/default/token";
const MAX_BODY_BYTES = 1 << 16;
const MAX_ATTEMPTS = 3;
const RETRY_PAUSE_MS = 200;
// Another attempt only when there is clearly time for it.
const MIN_TIME_FOR_RETRY_MS = 1_000;

export async function metadataAccessToken(baseUrl: string, ctx: Context): Promise<AccessToken> {
  const where = `metadata server at ${baseUrl.replace(/^https?:\/\//, "")}`;
  let lastError: ProviderError | null = null;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const outcome = await attemptOnce(baseUrl, where, ctx);
    if (outcome.ok) return outcome.token;
    lastError = outcome.error;
    // GKE's metadata server can blip under load: retry what may pass (5xx,
    // network), never what will not (4xx, a bad answer), and only within the deadline.
    const remaining = ctx.deadline - ctx.now().getTime();
    if (!outcome.retry || ctx.signal.aborted || remaining < MIN_TIME_FOR_RETRY_MS) break;
    ctx.log.debug(`${outcome.error.message}; trying again`);
    await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS * attempt));
  }
  throw lastError ?? new ProviderError(`token request failed (${where})`);
}

type Attempt = { ok: true; token: AccessToken } | { ok: false; error: ProviderError; retry: boolean };

async function attemptOnce(baseUrl: string, where: string, ctx: Context): Promise<Attempt> {
  const fail = (reason: string, retry = false): Attempt => ({
    ok: false,
    error: new ProviderError(`token request failed (${where}): ${reason}`),
    retry,
  });
  let res: Response;
  let text: string;
  try {
    res = await fetch(`${baseUrl}${TOKEN_PATH}`, {
      headers: { "Metadata-Flavor": "Google" },
      signal: ctx.signal,
      redirect: "error",
    });
    text = await readCapped(res, MAX_BODY_BYTES);
  } catch (err) {
    if (err instanceof BodyTooLargeError) return fail(err.message);
    if (ctx.signal.aborted) return fail("no answer before the deadline");
    const code = (err as { code?: unknown } | null)?.code;
    return fail(typeof code === "string" && code ? code : scrub(String(err), 120), true);
  }
  if (!res.ok) return fail(`HTTP ${res.status}${text ? ` (${scrub(text, 80)})` : ""}`, res.status >= 500);
  if (res.headers.get("metadata-flavor") !== "Google") return fail("the answer has no Metadata-Flavor: Google header");
  if (text.length > MAX_BODY_BYTES) return fail(`the answer is too large (${text.length} bytes)`);
  const read = readJsonObject(text);
  if (!read.ok) return fail(`the answer is ${read.problem}`);
  const d = read.value;
  if (typeof d.access_token !== "string" || d.access_token === "") return fail("the answer has no access_token");
  ctx.log.secret(d.access_token);
  const expiresIn = d.expires_in;
  if (typeof expiresIn !== "number" || !Number.isFinite(expiresIn)) return fail("the answer has no valid expires_in");
  if (expiresIn <= 0) return fail(`the token it returned has already expired (expires_in ${expiresIn})`);
  return { ok: true, token: { token: d.access_token, expiresAt: new Date(ctx.now().getTime() + expiresIn * 1000) } };
}
