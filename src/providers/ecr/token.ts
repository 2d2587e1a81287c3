// ECR's authorizationToken is base64 of `AWS:<password>`. The password itself
// may contain `:`, so only the first one separates the two.

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export function decodeAuthorizationToken(token: string): { username: string; password: string } | null {
  if (!BASE64.test(token)) return null;
  const text = Buffer.from(token, "base64").toString("utf8");
  const colon = text.indexOf(":");
  if (colon <= 0 || colon === text.length - 1) return null;
  const username = text.slice(0, colon);
  // `<token>` would make docker treat the password as an identity token.
  if (username === "<token>") return null;
  return { username, password: text.slice(colon + 1) };
}
