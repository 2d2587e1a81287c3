// Reading a JWT's claims without verifying it: only to name who a token is
// for (cache keys) or what its issuer said about it (its `exp`, Entra's
// `tid`). Trust comes from the TLS connection it arrived on, never from this.

export type Claims = Readonly<Record<string, unknown>>;

const MAX_PAYLOAD = 64 * 1024;

/** The payload of a JWT, decoded but not verified; null when it is not one. */
export function jwtClaims(token: string): Claims | null {
  const parts = token.split(".");
  if (parts.length !== 3 || parts[1]!.length === 0 || parts[1]!.length > MAX_PAYLOAD) return null;
  try {
    const payload: unknown = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8"));
    return typeof payload === "object" && payload !== null && !Array.isArray(payload) ? (payload as Claims) : null;
  } catch {
    return null;
  }
}

/** The `exp` claim as a Date; null when absent or not a positive number of seconds. */
export function jwtExpiry(token: string): Date | null {
  const exp = jwtClaims(token)?.exp;
  return typeof exp === "number" && Number.isFinite(exp) && exp > 0 ? new Date(exp * 1000) : null;
}

/** A non-empty string claim, or null. */
export function jwtStringClaim(token: string, name: string): string | null {
  const value = jwtClaims(token)?.[name];
  return typeof value === "string" && value !== "" ? value : null;
}
