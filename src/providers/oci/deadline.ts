// Time limits and quiet for work done inside oci-common.
//
// The SDK fetches instance certificates with no timeout and retries the
// federation call, so every SDK promise is raced against our deadline. Our
// limit ends a little before the resolver's own, so the message names what
// hung rather than only "deadline reached".
//
// The SDK also writes to console.log (retries, unknown regions): a Docker
// helper's stdout is its protocol, so while SDK code runs the console goes to
// the debug log instead.

import { format } from "node:util";
import { ProviderError, type Context } from "../../provider.ts";


const MARGIN_MS = 100;

/** Milliseconds left for our own work, never below 1. */
export function remainingMs(ctx: Context, capMs = Infinity): number {
  return Math.max(1, Math.min(capMs, ctx.deadline - ctx.now().getTime() - MARGIN_MS));
}

export function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10}s`;
}

/** `work`, or a ProviderError naming `what` when the deadline (or `capMs`) comes first. */
export async function withDeadline<T>(work: Promise<T>, ctx: Context, what: string, capMs = Infinity): Promise<T> {
  const ms = remainingMs(ctx, capMs);
  // The loser of the race must not surface later as an unhandled rejection.
  work.catch(() => {});
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const limit = new Promise<never>((_, reject) => {
    const fail = () => reject(new ProviderError(`${what} did not answer within ${seconds(ms)}`));
    timer = setTimeout(fail, ms);
    onAbort = fail;
    if (ctx.signal.aborted) fail();
    else ctx.signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([work, limit]);
  } finally {
    clearTimeout(timer);
    if (onAbort) ctx.signal.removeEventListener("abort", onAbort);
  }
}

/** A signal for one fetch: the context's, or `ms` from now, whichever first. */
export function fetchSignal(ctx: Context, ms: number): AbortSignal {
  return AbortSignal.any([ctx.signal, AbortSignal.timeout(ms)]);
}

const CONSOLE_METHODS = ["log", "info", "warn", "error", "debug", "trace"] as const;

/**
 * Runs SDK work with the console sent to the debug log. Restored on success
 * only: after a timeout the SDK may still be retrying in the background, and a
 * late console.log must not land on stdout next to our answer.
 */
export async function quietConsole<T>(ctx: Context, work: () => Promise<T>): Promise<T> {
  const saved = CONSOLE_METHODS.map((m) => [m, console[m]] as const);
  for (const m of CONSOLE_METHODS) console[m] = (...args: unknown[]) => ctx.log.debug(`oci-common: ${format(...args)}`);
  const result = await work();
  for (const [m, fn] of saved) console[m] = fn;
  return result;
}
