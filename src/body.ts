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

/**
 * The same answer with its body counted as it is read, for SDKs that read
 * bodies themselves: past `limit` bytes the body is cancelled and the read
 * fails with BodyTooLargeError, so an SDK's `.text()` or `.json()` never
 * holds more than the limit.
 */
export function capResponse(res: Response, limit = MAX_BODY_BYTES): Response {
  // A Response cannot be rebuilt with a body for these statuses (nor outside 200–599).
  if (res.body === null || res.status < 200 || res.status > 599 || [204, 205, 304].includes(res.status)) return res;
  const tooLarge = () => new BodyTooLargeError(`${originOf(res)} answered with more than ${limit} bytes; not read further`);
  const declared = Number(res.headers.get("content-length") ?? "");
  const early = Number.isFinite(declared) && declared > limit;
  const reader = res.body.getReader();
  let size = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = early ? null : await reader.read();
      if (next?.done) return controller.close();
      size += next?.value.byteLength ?? Infinity;
      if (size > limit) {
        await reader.cancel().catch(() => {});
        controller.error(tooLarge());
        return;
      }
      controller.enqueue(next!.value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
  const capped = new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  Object.defineProperty(capped, "url", { value: res.url });
  Object.defineProperty(capped, "redirected", { value: res.redirected });
  return capped;
}

/** `fetch` whose answers are capped as `capResponse` says, for an SDK that takes a fetch implementation. */
export function cappedFetch(limit = MAX_BODY_BYTES, base: typeof fetch = fetch): typeof fetch {
  const capped = async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => capResponse(await base(input, init), limit);
  return Object.assign(capped, { preconnect: base.preconnect }) as typeof fetch;
}

/**
 * Runs `work` with the global fetch capped, for an SDK that calls the global
 * fetch and takes no other (oci-common). The helper makes one request at a
 * time, so nothing else sees the swap; it is undone however `work` ends.
 */
export async function withCappedGlobalFetch<T>(work: () => Promise<T>, limit = MAX_BODY_BYTES): Promise<T> {
  const saved = globalThis.fetch;
  globalThis.fetch = cappedFetch(limit, saved);
  try {
    return await work();
  } finally {
    globalThis.fetch = saved;
  }
}
