// OKE workload identity: a Kubernetes service account token is exchanged at
// the cluster's proxymux for an OCI resource-principal session token (RPST),
// bound to a session key we generate; requests are then signed with key id
// `ST$<rpst>` and that key. Loaded lazily (only inside fetch).
//
// The wire protocol is oci-common's X509FederationClientForOkeWorkloadIdentity
// (oracle/oci-typescript-sdk lib/common/lib/auth/), reproduced here:
//   POST https://<KUBERNETES_SERVICE_HOST>:<KUBERNETES_SERVICE_PORT_PROXYMUX>/resourcePrincipalSessionTokens
//   Authorization: Bearer <service account token>
//   Content-Type: application/json
//   {"podKey": "<the session public key: SPKI PEM without its header, footer and newlines>"}
//   → 200, body: base64 of {"token": "ST$<rpst>"}
// and the TLS server is trusted through the cluster's CA (ca.crt).
//
// Why not the SDK's OkeWorkloadIdentityAuthenticationDetailsProvider: its
// builder reads the token from a file only, so in kubelet mode the pod's token
// would have to be written to disk; the client class that takes a token string
// is not exported. It also retries a refusal three times at once, has no
// timeout, and reads KUBERNETES_SERVICE_* from process.env rather than our
// Context. So the exchange is done with fetch here, and signing stays with the
// SDK's DefaultRequestSigner (token.ts), exactly as for other session tokens.

import { jwtClaims } from "../../jwt.ts";
import { generateKeyPair } from "node:crypto";
import { readFileSync } from "node:fs";
import { rootCertificates } from "node:tls";
import { promisify } from "node:util";
import { ProviderError, type Context } from "../../provider.ts";
import type { AuthenticationDetailsProvider as AuthProvider } from "oci-common";
import { isAbort, reason } from "./errors.ts";
import { fetchSignal, remainingMs, seconds } from "./deadline.ts";
import { kubernetesCaFile, proxymuxUrl } from "./settings.ts";
import { BodyTooLargeError, readCapped } from "../../body.ts";

const PATH = "/resourcePrincipalSessionTokens";
const MAX_BODY_BYTES = 1 << 20;
const HINT = "OKE workload identity needs an enhanced OKE cluster";

export interface OkeExchange {
  /** The service account token: the pod's (kubelet mode) or the one mounted in this pod (read after the cheap checks). */
  saToken: () => string;
  /** Who the token belongs to, for messages: "the pod's service account token", … */
  whose: string;
}

/** Exchanges a service account token for an RPST and returns a signer identity for it. */
export async function okeSessionAuth(req: OkeExchange, ctx: Context): Promise<AuthProvider> {
  const base = proxymuxUrl(ctx.env);
  if (!base.ok) throw new ProviderError(`OKE workload identity: ${base.reason}`);
  const url = base.url + PATH;
  const caPath = kubernetesCaFile(ctx.env);
  let ca: string;
  try {
    ca = readFileSync(caPath, "utf8");
  } catch {
    throw new ProviderError(
      `OKE workload identity: cannot read the cluster CA ${caPath} (set OCI_KUBERNETES_SERVICE_ACCOUNT_CERT_PATH or CCH_OCI_KUBERNETES_CA_FILE); ${HINT}`,
    );
  }
  // A fresh session key per exchange, as the SDK does (refreshKeys before every call).
  const { publicKey, privateKey } = await promisify(generateKeyPair)("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  const saToken = req.saToken();
  const podKey = publicKey.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, "").replace(/\s+/g, "");

  ctx.log.debug(`exchanging ${req.whose} at ${url} for a resource principal session token`);
  const ms = remainingMs(ctx);
  let res: Response;
  let body: string;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: { authorization: `Bearer ${saToken}`, "content-type": "application/json" },
      body: JSON.stringify({ podKey }),
      redirect: "manual",
      signal: fetchSignal(ctx, ms),
      // Public roots plus the cluster's CA, as the SDK's https.Agent has it.
      tls: { ca: [...rootCertificates, ca] },
    });
    body = await readCapped(res, MAX_BODY_BYTES);
  } catch (err) {
    if (err instanceof BodyTooLargeError) throw new ProviderError(`${err.message}`);
    if (isAbort(err)) throw new ProviderError(`the OKE proxymux (${url}) did not answer within ${seconds(ms)}`);
    throw new ProviderError(`cannot reach the OKE proxymux at ${url}: ${reason(err)}`);
  }
  if (res.status !== 200) throw statusError(res.status, url, req.whose);
  const rpst = parseProxymuxBody(body, ctx.now());
  ctx.log.secret(rpst);
  return { getKeyId: async () => `ST$${rpst}`, getPrivateKey: () => privateKey, getPassphrase: () => null };
}

function statusError(status: number, url: string, whose: string): ProviderError {
  if (status === 401 || status === 403) {
    return new ProviderError(
      `the OKE proxymux (${url}) refused ${whose} (HTTP ${status}); ${HINT}, ` +
        `and the token's audience must be one the cluster's API server accepts`,
    );
  }
  return new ProviderError(`the OKE proxymux (${url}) answered HTTP ${status}; ${HINT}`);
}

/**
 * base64 of {"token":"ST$<rpst>"}; the RPST must be a JWT that has not
 * expired (its claims are read, not verified: OCI verifies it when it sees the
 * signature). Never echoes the body: it holds a credential.
 */
export function parseProxymuxBody(body: string, now: Date): string {
  const bad = (what: string) => new ProviderError(`the OKE proxymux sent an unusable answer (${what})`);
  if (body.length > MAX_BODY_BYTES) throw bad("larger than 1 MiB");
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(body.trim(), "base64").toString("utf8"));
  } catch {
    throw bad("not base64-encoded JSON");
  }
  const token = (data as { token?: unknown } | null)?.token;
  if (typeof token !== "string" || !token.startsWith("ST$") || token.length <= 3) throw bad("no ST$ token");
  const rpst = token.slice(3);
  const claims = /\s/.test(rpst) ? null : jwtClaims(rpst);
  if (claims === null) throw bad("the session token is not a JWT");
  const exp = claims.exp;
  if (typeof exp === "number" && exp * 1000 <= now.getTime()) throw bad("the session token has already expired");
  return rpst;
}
