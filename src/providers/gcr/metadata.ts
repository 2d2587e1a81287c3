// Is there a metadata server? On Google Cloud it answers in milliseconds; on
// a laptop 169.254.169.254 often swallows packets, and google-auth-library
// would wait 3 s (and retry) before giving up: `docker build`, which calls
// the helper for every credHelpers entry, would wait that long per entry. So
// off Google Cloud (as gcp-metadata's residency check sees it) we ping with a
// short limit of our own, as Go's metadata.OnGCE does: GET / and require the
// `Metadata-Flavor: Google` answer.

import { ProviderError } from "../../provider.ts";
import { summarize } from "../../summary.ts";
import type { MetadataDetection } from "./plan.ts";

export const PROBE_TIMEOUT_MS = 500;

export interface ProbeInput {
  baseUrl: string;
  detection: MetadataDetection;
  /** gcp-metadata's residency check (BIOS vendor, MAC prefix, serverless variables). */
  onGoogleCloud: () => boolean;
  signal: AbortSignal;
  /** Epoch ms. */
  deadline: number;
  now: () => number;
}

/** Resolves when the metadata server should be asked for a token; throws a ProviderError saying why not. */
export async function checkMetadataServer(input: ProbeInput): Promise<void> {
  const { detection } = input;
  if (detection === "assume-present") return;
  if (detection === "bios-only") {
    if (input.onGoogleCloud()) return;
    throw new ProviderError("not on Google Cloud (METADATA_SERVER_DETECTION=bios-only)");
  }
  // Resident: the server is there, and may be slow under load (GKE); the overall deadline governs.
  if (detection === "auto" && input.onGoogleCloud()) return;

  const limit = Math.max(1, Math.min(PROBE_TIMEOUT_MS, input.deadline - input.now()));
  const signal = AbortSignal.any([input.signal, AbortSignal.timeout(limit)]);
  let flavor: string | null;
  try {
    const res = await fetch(`${input.baseUrl}/`, { headers: { "Metadata-Flavor": "Google" }, signal, redirect: "error" });
    flavor = res.headers.get("metadata-flavor");
    await res.body?.cancel();
  } catch (err) {
    const what = signal.aborted ? `did not answer within ${limit / 1000}s` : `is unreachable (${errorCode(err)})`;
    throw new ProviderError(`the metadata server at ${hostOf(input.baseUrl)} ${what}`);
  }
  if (flavor !== "Google") {
    throw new ProviderError(`${hostOf(input.baseUrl)} answered without Metadata-Flavor: Google, so it is not a metadata server`);
  }
}

function hostOf(baseUrl: string): string {
  return baseUrl.replace(/^https?:\/\//, "");
}

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string" && code) return code;
  return summarize(err instanceof Error ? err.message.split("\n")[0]! : "unknown error", [], 120);
}
