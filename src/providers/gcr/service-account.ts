// A service-account key file's access token, by the OAuth 2.0 JWT-bearer grant
// (RFC 7523) sent to the key's own `token_uri`, as gcloud and the Go and
// Python libraries do. google-auth-library for Node posts every key to
// https://oauth2.googleapis.com/token whatever the file says, which breaks
// keys for private (Private Service Connect) or non-Google token endpoints.
// Loaded only by fetch.
//
// The assertion's `aud` is Google's token endpoint, whatever `token_uri` is:
// the audience Google's token service checks, and what gcloud (google-auth
// for Python) signs.

import { createSign } from "node:crypto";
import { ProviderError, type Context } from "../../provider.ts";
import { parseSecretEndpoint } from "../../endpoint.ts";
import { GOOGLE_TOKEN_URI, type AccessToken } from "./plan.ts";
import { hostOf, requestAccessToken } from "./token-endpoint.ts";

const JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const ASSERTION_LIFETIME_S = 3600;

export interface ServiceAccountKey {
  clientEmail: string;
  privateKey: string;
  privateKeyId: string | undefined;
  /** Where the grant goes: the key's token_uri, checked, or Google's. */
  tokenUri: string;
}

/**
 * The key's fields, or a ProviderError naming what is wrong. A token_uri
 * receives a signed assertion (a credential for an hour): https, or plain
 * http to a loopback address only.
 */
export function readServiceAccountKey(json: Record<string, unknown>, where: string): ServiceAccountKey {
  const str = (key: string): string | undefined => (typeof json[key] === "string" ? (json[key] as string) : undefined);
  const clientEmail = str("client_email");
  const privateKey = str("private_key");
  if (!clientEmail || !privateKey) throw new ProviderError(`${where}: a service account key needs client_email and private_key`);
  const raw = str("token_uri");
  let tokenUri = GOOGLE_TOKEN_URI;
  if (raw !== undefined && raw !== "") {
    const url = parseSecretEndpoint(raw, { query: false });
    if (url === null) {
      throw new ProviderError(
        `${where}: token_uri must be an https URL, or http to 127.0.0.1 or [::1] (no user, query or fragment)`,
      );
    }
    tokenUri = url.href;
  }
  return { clientEmail, privateKey, privateKeyId: str("private_key_id"), tokenUri };
}

export async function serviceAccountToken(
  key: ServiceAccountKey,
  scopes: readonly string[],
  where: string,
  ctx: Context,
): Promise<AccessToken> {
  const now = Math.floor(ctx.now().getTime() / 1000);
  const header = { alg: "RS256", typ: "JWT", ...(key.privateKeyId ? { kid: key.privateKeyId } : {}) };
  const claims = { iss: key.clientEmail, scope: scopes.join(" "), aud: GOOGLE_TOKEN_URI, iat: now, exp: now + ASSERTION_LIFETIME_S };
  const encode = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const unsigned = `${encode(header)}.${encode(claims)}`;
  let signature: string;
  try {
    signature = createSign("RSA-SHA256").update(unsigned).sign(key.privateKey, "base64url");
  } catch {
    // The library's message could quote the key; say only what is wrong.
    throw new ProviderError(`${where}: private_key is not a usable RSA private key (PEM)`);
  }
  const assertion = `${unsigned}.${signature}`;
  ctx.log.secret(assertion);
  ctx.log.debug(`${where}: JWT-bearer grant for ${key.clientEmail} at ${key.tokenUri}`);
  return requestAccessToken(
    {
      endpoint: key.tokenUri,
      contentType: "application/x-www-form-urlencoded",
      body: new URLSearchParams({ grant_type: JWT_BEARER_GRANT, assertion }).toString(),
      where: `token request at ${hostOf(key.tokenUri)}`,
      credential: `the key of ${key.clientEmail}`,
    },
    ctx,
  );
}
