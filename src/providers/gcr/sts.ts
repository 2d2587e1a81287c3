// The STS token exchange of a pod's service account token (RFC 8693 as Google
// STS speaks it), with the request cloud-provider-gcp's auth-provider-gcp
// sends: a JSON body, grant type token-exchange, subject token type jwt,
// requested type access_token, scope cloud-platform. Loaded only by fetch.

import type { Context } from "../../provider.ts";
import type { AccessToken } from "./plan.ts";
import { hostOf, requestAccessToken } from "./token-endpoint.ts";

export const TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange";
export const JWT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:jwt";
export const ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token";
const CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform";

export interface ExchangeInput {
  subjectToken: string;
  audience: string;
  endpoint: string;
}

export async function exchangePodToken(input: ExchangeInput, ctx: Context): Promise<AccessToken> {
  return requestAccessToken(
    {
      endpoint: input.endpoint,
      contentType: "application/json",
      body: JSON.stringify({
        audience: input.audience,
        grant_type: TOKEN_EXCHANGE_GRANT,
        requested_token_type: ACCESS_TOKEN_TYPE,
        scope: CLOUD_PLATFORM_SCOPE,
        subject_token: input.subjectToken,
        subject_token_type: JWT_TOKEN_TYPE,
      }),
      where: `STS token exchange at ${hostOf(input.endpoint)}`,
      credential: "the pod's token",
    },
    ctx,
  );
}
