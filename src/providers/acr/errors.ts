// Turning Entra ID, SDK and registry failures into one safe, actionable line.

import { ProviderError, type Context } from "../../provider.ts";
import { summarize } from "../../summary.ts";
import type { IdentitySource } from "./plan.ts";

const MAX_DETAIL = 240;

// MSAL reports an authority it cannot reach (DNS, refused, TLS) as these codes or messages.
const NETWORK =
  /endpoints_resolution_error|network_error|network unreachable|ECONNREFUSED|ENOTFOUND|ETIMEDOUT|EAI_AGAIN|certificate|socket hang up|fetch failed/i;

/**
 * unavailable: the source is not there, try the next one (managed identity, Azure CLI);
 * unreachable: a configured identity whose authority cannot be reached;
 * unusable: a configured identity that cannot be used locally (token file, certificate);
 * refused: Entra ID (or the managed-identity endpoint) said no.
 */
export function isNetworkError(err: unknown): boolean {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { errorCode?: unknown } | null)?.errorCode;
  return NETWORK.test(message) || (typeof code === "string" && NETWORK.test(code));
}

export function classify(err: unknown, source: IdentitySource): "unavailable" | "unreachable" | "unusable" | "refused" {
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (err as { errorCode?: unknown } | null)?.errorCode;
  const network = NETWORK.test(e.message) || (typeof code === "string" && NETWORK.test(code));
  const unavailable = e.name === "CredentialUnavailableError";
  if (source.kind === "azure-cli") return unavailable ? "unavailable" : "refused";
  if (source.kind === "managed-identity") {
    // The SDK reports every managed-identity failure as "unavailable"; only an
    // absent or unreachable endpoint really is. A reachable endpoint that says
    // no (unknown client id, no identity assigned) is a refusal to report.
    return unavailable && (network || /attempted to use the IMDS endpoint/i.test(e.message)) ? "unavailable" : "refused";
  }
  // Sources 1–2 and the service account were chosen because they are configured: never "no identity".
  if (network) return "unreachable";
  return unavailable ? "unusable" : "refused";
}

/** One safe line: the OAuth error code and the first sentence of its description. */
export function errorDetail(err: unknown, ctx: Context): string {
  let text: string;
  const response = (err as { errorResponse?: { error?: unknown; errorDescription?: unknown } } | null)?.errorResponse;
  if (response && typeof response.error === "string") {
    const description = typeof response.errorDescription === "string" ? response.errorDescription : "";
    text = `${response.error}: ${description}`;
  } else {
    text = err instanceof Error ? err.message : String(err);
  }
  // MSAL reshapes Entra's answer as "Error(s): <codes> - Timestamp: … -
  // Description: AADSTS…: <text> - Trace ID: … - Correlation ID: …": keep the
  // description, drop the ids and timestamps (noise for a person).
  const described = /Description:\s*([\s\S]*?)(?:\s+-\s+(?:Trace ID|Correlation ID|Timestamp):|$)/.exec(text);
  if (described) text = `${text.split(":")[0]}: ${described[1]}`;
  text = text.split(/\r?\n/).find((line) => line.trim() !== "") ?? text;
  text = text.replace(/\s*(Trace ID|Correlation ID|Timestamp):.*$/i, "");
  const secrets = [ctx.env.AZURE_CLIENT_SECRET, ctx.env.AZURE_CLIENT_CERTIFICATE_PASSWORD, ctx.serviceAccount?.token, ctx.env.AZURE_FEDERATED_TOKEN];
  return summarize(text, secrets, MAX_DETAIL);
}

export function clip(text: string): string {
  return summarize(text, [], MAX_DETAIL);
}

/** `{"errors":[{"code","message"}]}` (the Distribution error shape ACR uses), or OAuth `{"error","error_description"}`. */
export function registryErrorDetail(body: string, secrets: string[]): string {
  let text = "";
  try {
    const data = JSON.parse(body) as Record<string, unknown>;
    const first = Array.isArray(data.errors) ? (data.errors[0] as Record<string, unknown> | undefined) : undefined;
    if (first) text = [first.code, first.message].filter((x) => typeof x === "string" && x).join(": ");
    else if (typeof data.error === "string")
      text = [data.error, data.error_description].filter((x) => typeof x === "string" && x).join(": ");
  } catch {
    // Not JSON: say nothing rather than echo an unknown body.
  }
  // Known secrets and anything token-shaped are masked: a front end may echo tokens back.
  return summarize(text, secrets, 200);
}

export function networkError(what: string, err: unknown, ctx: Context): ProviderError {
  if (ctx.signal.aborted) return new ProviderError(`${what}: no answer before the deadline`);
  const cause = err instanceof Error ? err.message.split("\n")[0] : String(err);
  return new ProviderError(`${what}: ${cause}`);
}
