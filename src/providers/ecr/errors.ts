// Turns what the AWS SDK throws into one line a person can act on: which
// registry, which identity source, what failed. SDK messages name profiles,
// roles and error codes; they do not carry keys or tokens, but they are still
// cut short and flattened so nothing unexpected spills onto a terminal.

import { ProviderError } from "../../provider.ts";
import { summarize } from "../../summary.ts";

const DETAIL_LIMIT = 200;
const TOO_LARGE = /\S+ answered with more than \d+ bytes; not read further/;

export interface FailureContext {
  /** e.g. "ECR account 123456789012 in eu-west-1". */
  target: string;
  /** e.g. `AWS profile "prod" (from the configuration file)…`. */
  source: string;
  /** The configured deadline, in seconds, for the timeout message. */
  timeoutSeconds: number;
  /** Whether the deadline's signal has fired. */
  aborted: boolean;
  /** Getting credentials (STS for a role or a pod token), or the token from ECR. Default: token. */
  phase?: "credentials" | "token";
}

const REFUSED = new Set([
  "AccessDeniedException",
  "AccessDenied",
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "SignatureDoesNotMatch",
  "InvalidClientTokenId",
  "ExpiredToken",
  "ExpiredTokenException",
  "UnauthorizedOperation",
]);

interface SdkErrorShape {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: number; attempts?: number };
}

export function describeFailure(err: unknown, f: FailureContext): ProviderError {
  const e = (typeof err === "object" && err !== null ? err : {}) as SdkErrorShape;
  // An answer over the limit (capped-http.ts), however the SDK wrapped it: without the SDK's hint about a hidden field.
  const tooLarge = typeof e.message === "string" ? TOO_LARGE.exec(e.message)?.[0] : undefined;
  if (tooLarge) {
    const call = f.phase === "credentials" ? `getting credentials (${f.source})` : "GetAuthorizationToken";
    return new ProviderError(`${call} for ${f.target} failed: ${summarize(tooLarge, [], DETAIL_LIMIT)}`);
  }
  if (err instanceof ProviderError) return err;
  const name = typeof e.name === "string" ? e.name : "Error";
  // The SDK's message only: its causes repeat it, and the cut keeps room for what we add around it.
  const detail = summarize(typeof e.message === "string" ? e.message : err, [], DETAIL_LIMIT);
  const status = e.$metadata?.httpStatusCode;
  const attempts = e.$metadata?.attempts;
  const tries = attempts && attempts > 1 ? ` after ${attempts} attempts` : "";
  const say = (text: string) => new ProviderError(text);

  if (f.aborted || name === "AbortError") {
    return say(
      `no token from ${f.target} within ${f.timeoutSeconds}s (deadline reached; raise CCH_TIMEOUT or timeoutSeconds if the network is slow)`,
    );
  }
  if (name === "CredentialsProviderError" || name === "ProviderError" || name === "TokenProviderError") {
    return say(`no usable AWS credentials for ${f.target}: tried ${f.source}: ${detail}`);
  }
  if (name === "EndpointError") return say(`cannot build the API endpoint for ${f.target}: ${detail}`);
  const sts = f.phase === "credentials";
  if (REFUSED.has(name) || status === 401 || status === 403 || (sts && status !== undefined && status < 500)) {
    if (sts) return say(`could not get credentials for ${f.target}: STS refused ${f.source}: ${name}: ${detail}`);
    return say(`${f.target} refused the credentials from ${f.source}: ${name}: ${detail}`);
  }
  const api = sts ? "STS" : "the ECR API";
  if (name === "TimeoutError" || name === "RequestTimeout") {
    return say(`${api} did not answer in time for ${f.target}${tries} (${detail})`);
  }
  if (typeof e.code === "string" && /^E[A-Z]+$/.test(e.code)) {
    return say(`could not reach ${api} for ${f.target}${tries}: ${e.code}`);
  }
  const call = sts ? `getting credentials (${f.source})` : "GetAuthorizationToken";
  // The SDK's own text here only points at a hidden field of the error object.
  if (name === "SyntaxError" || detail.includes("Deserialization error")) {
    return say(
      `${call} for ${f.target} failed: ${api} answered${status ? ` HTTP ${status}` : ""} with a body that is not valid JSON`,
    );
  }
  if (status !== undefined) return say(`${call} for ${f.target} failed${tries}: HTTP ${status} ${name}: ${detail}`);
  return say(`${call} for ${f.target} failed: ${name}: ${detail}`);
}
