// Turning OCI SDK, network and OCIR failures into one safe, actionable line.

import { ProviderError } from "../../provider.ts";
import { summarize } from "../../summary.ts";

/** What a failed token request was: for the message. */
interface Request {
  registry: string;
  who: string;
  url: string;
}

export function isAbort(err: unknown): boolean {
  return err instanceof Error && (err.name === "AbortError" || err.name === "TimeoutError");
}

/** An error's message as one short line; SDK errors are sometimes plain strings or objects. */
export function reason(err: unknown): string {
  let text: string;
  if (err instanceof Error) text = err.message;
  else if (typeof err === "object" && err !== null && typeof (err as { message?: unknown }).message === "string") {
    text = (err as { message: string }).message;
  } else text = String(err);
  // Key material never reaches a message; summarize masks tokens and keeps it to one line.
  return summarize(text.replace(/-----BEGIN[\s\S]*?-----END[^-]*-----/g, "[key]"));
}

export function statusError(status: number, body: string, req: Request): ProviderError {
  const detail = errorDetail(body);
  const said = detail ? ` (OCIR said: ${detail})` : "";
  switch (status) {
    case 401:
      return new ProviderError(
        `${req.registry} refused the signature of ${req.who} (HTTP 401)${said}; ` +
          `check that the key, fingerprint, user and tenancy match an API key uploaded in OCI, and the clock`,
      );
    case 403:
      return new ProviderError(
        `${req.who} is not allowed to pull from ${req.registry} (HTTP 403)${said}; ` +
          (req.who.includes("OKE workload identity")
            ? `an IAM policy must allow the workload, e.g. "Allow any-user to read repos in tenancy where all ` +
              `{request.principal.type='workload', request.principal.namespace='<ns>', ` +
              `request.principal.service_account='<sa>', request.principal.cluster_id='<cluster ocid>'}"`
            : `an IAM policy must allow it, e.g. "Allow group <group> to read repos in tenancy" ` +
              `(a dynamic group for instance or resource principals)`),
      );
    case 404:
      return new ProviderError(
        `no token service at ${req.url} (HTTP 404)${said}; is ${req.registry} an OCIR registry?`,
      );
    case 429:
      return new ProviderError(`${req.registry} is rate limiting token requests (HTTP 429)${said}; try again shortly`);
    default:
      return new ProviderError(`${req.registry} answered HTTP ${status} to the token request${said}`);
  }
}

/** `{"code","message"}` (OCI) or `{"errors":[{"code","message"}]}` (registry), cut short. */
function errorDetail(body: string): string {
  try {
    const data: unknown = JSON.parse(body.slice(0, 1 << 20));
    const first = (Array.isArray((data as { errors?: unknown }).errors) ? (data as { errors: unknown[] }).errors[0] : data) as
      { code?: unknown; message?: unknown } | undefined;
    const parts = [first?.code, first?.message].filter((x): x is string => typeof x === "string" && x !== "");
    return summarize(parts.join(": "), [], 200);
  } catch {
    return "";
  }
}
