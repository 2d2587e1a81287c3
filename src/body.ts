// HTTP answers are read while counting: a body larger than the limit is
// cancelled as soon as it passes it, never held whole in memory. Every token
// endpoint answers in a few kilobytes; 1 MiB is plenty.

import { ProviderError } from "./provider.ts";

export const MAX_BODY_BYTES = 1 << 20;

export class BodyTooLargeError extends ProviderError {
  override name = "BodyTooLargeError";
}

/**
 * The body's text, read up to `limit` bytes. Beyond that, the rest is
 * cancelled and BodyTooLargeError thrown, or with `truncate` the first
 * `limit` bytes are returned (for error pages, where a prefix is enough).
 */
export async function readCapped(res: Response, limit = MAX_BODY_BYTES, options: { truncate?: boolean } = {}): Promise<string> {
  const tooLarge = () => new BodyTooLargeError(`${originOf(res)} answered with more than ${limit} bytes; not read further`);
  const declared = Number(res.headers.get("content-length") ?? "");
  if (!options.truncate && Number.isFinite(declared) && declared > limit) {
    await res.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  if (res.body === null) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (size + value.byteLength > limit) {
      chunks.push(value.subarray(0, limit - size));
      await reader.cancel().catch(() => {});
      if (!options.truncate) throw tooLarge();
      break;
    }
    chunks.push(value);
    size += value.byteLength;
  }
  return Buffer.concat(chunks).toString("utf8");
}

function originOf(res: Response): string {
  try {
    return new URL(res.url).origin;
  } catch {
    return "the server";
  }
}
