// What the login server's `/v2/` challenge must look like before any token is
// sent anywhere. The Entra ID token goes to the realm's host, so a realm on any
// other host (or scheme, or port) than the endpoint we asked is refused: a
// malicious or misconfigured front end must not be able to collect tokens.

import { summarize } from "../../summary.ts";
import { parseWwwAuthenticate } from "../../protocol/www-authenticate.ts";

export interface AcrChallenge {
  /** Where to POST the exchange: the realm's origin + `/oauth2/exchange`. */
  exchangeUrl: URL;
  /** The `service` parameter (the login server name), or the registry name when absent. */
  service: string;
}

export type ChallengeResult = { ok: true; challenge: AcrChallenge } | { ok: false; problem: string };

const MAX_SHOWN = 120;

/** Checks a `Www-Authenticate` header from `endpoint` (the origin we sent GET /v2/ to). */
export function readAcrChallenge(header: string | null, endpoint: URL, registry: string): ChallengeResult {
  if (header === null || header.trim() === "") return { ok: false, problem: "it asked for no Bearer authentication" };
  const bearer = parseWwwAuthenticate(header).find((c) => c.scheme === "bearer");
  if (!bearer) return { ok: false, problem: `it asked for "${shown(header)}", not a Bearer token` };
  const realmText = bearer.params.realm;
  if (!realmText) return { ok: false, problem: "its Bearer challenge has no realm" };
  let realm: URL;
  try {
    realm = new URL(realmText);
  } catch {
    return { ok: false, problem: `its realm "${shown(realmText)}" is not a URL` };
  }
  if (realm.username !== "" || realm.password !== "" || realm.origin !== endpoint.origin) {
    return {
      ok: false,
      problem: `its realm ${shown(realm.origin)} is not on ${endpoint.origin}; refusing to send a token there`,
    };
  }
  const service = bearer.params.service?.trim() || registry;
  return { ok: true, challenge: { exchangeUrl: new URL("/oauth2/exchange", realm.origin), service } };
}

function shown(text: string): string {
  return summarize(text, [], MAX_SHOWN);
}
