// Reads claims from a JWT without verifying it. We only read what the issuer
// told us about its own token (its `exp`, the Entra `tid`); trust comes from
// the TLS connection we received it on, not from the signature.

export type Claims = Readonly<Record<string, unknown>>;

export function decodeJwtClaims(token: string): Claims | null {
  const parts = token.split(".");
  if (parts.length !== 3 || parts[1]!.length === 0 || parts[1]!.length > 64 * 1024) return null;
  try {
    const json = Buffer.from(parts[1]!, "base64url").toString("utf8");
    const claims: unknown = JSON.parse(json);
    return typeof claims === "object" && claims !== null && !Array.isArray(claims) ? (claims as Claims) : null;
  } catch {
    return null;
  }
}

/** The `exp` claim as a Date, or null when absent or not a number of seconds. */
export function jwtExpiry(token: string): Date | null {
  const exp = decodeJwtClaims(token)?.exp;
  return typeof exp === "number" && Number.isFinite(exp) && exp > 0 ? new Date(exp * 1000) : null;
}

/** A string claim, or null. */
export function jwtStringClaim(token: string, name: string): string | null {
  const value = decodeJwtClaims(token)?.[name];
  return typeof value === "string" && value !== "" ? value : null;
}
