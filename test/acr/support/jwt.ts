// Unsigned JWTs for the fakes: the helper reads claims (exp, tid), it does not verify.

export function makeJwt(claims: Record<string, unknown>): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  return `${part({ alg: "RS256", typ: "JWT" })}.${part(claims)}.${Buffer.from("test-signature").toString("base64url")}`;
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);
