// ECR's authorizationToken is base64 of `AWS:<password>`. The password itself
// may contain `:`, so only the first one separates the two.

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export type DecodedToken = { ok: true; username: string; password: string } | { ok: false; reason: string };

/** Why a token cannot be used is said without quoting it: the text may be a secret. */
export function parseAuthorizationToken(token: string): DecodedToken {
  if (!BASE64.test(token) || token.length % 4 === 1) return { ok: false, reason: "is not base64" };
  const text = Buffer.from(token, "base64").toString("utf8");
  const colon = text.indexOf(":");
  if (colon === -1) return { ok: false, reason: "has no ':' between user name and password" };
  if (colon === 0) return { ok: false, reason: "has an empty user name" };
  if (colon === text.length - 1) return { ok: false, reason: "has an empty password" };
  const username = text.slice(0, colon);
  // `<token>` would make docker treat the password as an identity token.
  if (username === "<token>") return { ok: false, reason: "names the reserved user <token>" };
  return { ok: true, username, password: text.slice(colon + 1) };
}

export function decodeAuthorizationToken(token: string): { username: string; password: string } | null {
  const d = parseAuthorizationToken(token);
  return d.ok ? { username: d.username, password: d.password } : null;
}
