// Hashing and random names with Bun's and the web platform's built-ins:
// loading node:crypto costs about 1 MB of RSS on every start of the hot path.

export function sha256Hex(text: string): string {
  return new Bun.CryptoHasher("sha256").update(text).digest("hex");
}

export function randomHex(bytes: number): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("hex");
}

/** The first `length` hex digits of the text's SHA-256: a short, secret-free name for it. */
export function shortHash(text: string, length = 12): string {
  return sha256Hex(text).slice(0, length);
}
