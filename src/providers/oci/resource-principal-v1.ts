// Resource principal version 1.1 (OCI_RESOURCE_PRINCIPAL_VERSION=1.1), which
// oci-common for TypeScript does not implement; the steps follow the Go SDK
// (common/auth resource_principals_v1.go), see docs/providers/oci.md:
//
//   1. GET <OCI_RESOURCE_PRINCIPAL_RPT_ENDPOINT><OCI_RESOURCE_PRINCIPAL_RPT_PATH>
//      (default path /20180711/resourcePrincipalToken/{id}, {id} being
//      OCI_RESOURCE_PRINCIPAL_RPT_ID or the instance's own id), signed by the
//      instance principal → {"resourcePrincipalToken", "servicePrincipalSessionToken"}
//   2. POST <OCI_RESOURCE_PRINCIPAL_RPST_ENDPOINT, default https://auth.<region>.<realm
//      domain>>/v1/resourcePrincipalSessionToken, signed by the instance
//      principal, {"resourcePrincipalToken", "servicePrincipalSessionToken",
//      "sessionPublicKey": <a fresh session key, SPKI PEM without header,
//      footer and newlines>} → {"token": "<resource principal session token>"}
//   3. requests are then signed with key id ST$<token> and the session key.
// Loaded only inside fetch; the instance principal and the endpoints come
// from auth.ts, so this file knows only the two calls.

import type * as OciCommon from "oci-common";
import { readCapped } from "../../body.ts";
import { generateKeyPair } from "node:crypto";
import { promisify } from "node:util";
import { ProviderError, type Context } from "../../provider.ts";
import { summarize } from "../../summary.ts";
import { jwtClaims } from "../../jwt.ts";
import { parseJsonObject } from "../../json.ts";
import { fetchSignal, remainingMs, seconds } from "./deadline.ts";

type AuthProvider = OciCommon.AuthenticationDetailsProvider;

export const RPT_PATH_DEFAULT = "/20180711/resourcePrincipalToken/{id}";
export const RPST_PATH = "/v1/resourcePrincipalSessionToken";
const MAX_BODY_BYTES = 1 << 20;

export interface ResourcePrincipalV11 {
  common: typeof OciCommon;
  /** The instance principal that signs both calls. */
  instance: AuthProvider;
  /** The resource principal token URL, {id} already replaced. */
  rptUrl: string;
  /** Base URL of the session token service (no path). */
  rpstBase: string;
}

export async function resourcePrincipalV11(req: ResourcePrincipalV11, ctx: Context): Promise<AuthProvider> {
  const rptWho = "the resource principal token service";
  const rpt = parseJson(await signedCall(req, "GET", req.rptUrl, undefined, rptWho, ctx), rptWho);
  const resourcePrincipalToken = rpt.resourcePrincipalToken;
  const servicePrincipalSessionToken = rpt.servicePrincipalSessionToken;
  if (typeof resourcePrincipalToken !== "string" || resourcePrincipalToken === "" || typeof servicePrincipalSessionToken !== "string") {
    throw new ProviderError(`resource principal 1.1: ${req.rptUrl} answered without a resourcePrincipalToken`);
  }
  ctx.log.secret(resourcePrincipalToken);
  ctx.log.secret(servicePrincipalSessionToken);

  // A fresh session key per exchange, as the SDKs do.
  const { publicKey, privateKey } = await promisify(generateKeyPair)("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  const sessionPublicKey = publicKey.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, "").replace(/\s+/g, "");
  const body = JSON.stringify({ resourcePrincipalToken, servicePrincipalSessionToken, sessionPublicKey });
  const url = req.rpstBase + RPST_PATH;
  const rpstWho = "the resource principal session token service";
  const answer = parseJson(await signedCall(req, "POST", url, body, rpstWho, ctx), rpstWho);
  const token = answer.token;
  if (typeof token !== "string" || token === "" || /\s/.test(token)) {
    throw new ProviderError(`resource principal 1.1: ${url} answered without a session token`);
  }
  ctx.log.secret(token);
  const exp = jwtClaims(token)?.exp;
  if (typeof exp === "number" && exp * 1000 <= ctx.now().getTime()) {
    throw new ProviderError(`resource principal 1.1: ${url} returned a session token that has already expired`);
  }
  return { getKeyId: async () => `ST$${token}`, getPrivateKey: () => privateKey, getPassphrase: () => null };
}

/** One request signed by the instance principal; the body of a 200 answer, or a ProviderError naming who failed. */
async function signedCall(
  req: ResourcePrincipalV11,
  method: "GET" | "POST",
  url: string,
  body: string | undefined,
  who: string,
  ctx: Context,
): Promise<string> {
  const headers = new Headers({ accept: "application/json", ...(body ? { "content-type": "application/json" } : {}) });
  try {
    await new req.common.DefaultRequestSigner(req.instance).signHttpRequest({ method, uri: url, headers, body });
  } catch (err) {
    throw new ProviderError(`resource principal 1.1: cannot sign the call to ${who} with the instance principal: ${summarize(err)}`);
  }
  const ms = remainingMs(ctx);
  const signal = fetchSignal(ctx, ms);
  let res: Response;
  let text: string;
  try {
    // No redirects: the signature is for this host.
    res = await fetch(url, { method, headers, body, redirect: "manual", signal });
    text = await readCapped(res);
  } catch (err) {
    if (signal.aborted) throw new ProviderError(`resource principal 1.1: ${who} (${url}) did not answer within ${seconds(ms)}`);
    throw new ProviderError(`resource principal 1.1: cannot reach ${who} at ${url}: ${summarize(err)}`);
  }
  if (text.length > MAX_BODY_BYTES) throw new ProviderError(`resource principal 1.1: ${who} sent more than 1 MiB`);
  if (res.status !== 200) {
    let said = "";
    try {
      const d = JSON.parse(text) as { code?: unknown; message?: unknown };
      said = [d.code, d.message].filter((x) => typeof x === "string").join(": ");
    } catch {
      // not JSON: the status says enough
    }
    throw new ProviderError(
      `resource principal 1.1: ${who} (${url}) answered HTTP ${res.status}${said ? ` (${summarize(said, [], 200)})` : ""}`,
    );
  }
  return text;
}

function parseJson(text: string, who: string): Record<string, unknown> {
  try {
    return parseJsonObject(text);
  } catch (err) {
    throw new ProviderError(`resource principal 1.1: the answer of ${who} is ${(err as Error).message}`);
  }
}
