// google-auth-library's errors, as one line a person can act on. Its messages
// can carry a server's response body; keep what says why (HTTP status, OAuth
// error code and description), cut the rest, and mask anything shaped like a
// token in case a server echoed one back.

import { summarize } from "../../summary.ts";

const MAX_REASON = 240;

/** Text from a server, made safe for a message: one line, tokens masked, at most `limit` characters. */
export function scrub(text: string, limit = MAX_REASON): string {
  return summarize(text, [], limit);
}

interface ErrorLike {
  message?: unknown;
  code?: unknown;
  status?: unknown;
  response?: { status?: unknown; data?: unknown };
}

/** A short reason for a failed token request, free of secrets. */
export function describeGoogleError(err: unknown): string {
  const e = (typeof err === "object" && err !== null ? err : {}) as ErrorLike;
  const status = typeof e.response?.status === "number" ? e.response.status : null;
  const detail = oauthDetail(e.response?.data);
  if (status !== null) return clip(`HTTP ${status}${detail ? ` (${detail})` : ""}`);
  const code = typeof e.code === "string" && /^[A-Z_]+$/.test(e.code) ? e.code : null;
  const message = typeof e.message === "string" ? e.message : String(err);
  return clip(code && !message.includes(code) ? `${code}: ${message}` : message);
}

function oauthDetail(data: unknown): string | null {
  if (typeof data === "string") {
    try {
      return oauthDetail(JSON.parse(data));
    } catch {
      return null;
    }
  }
  if (typeof data !== "object" || data === null) return null;
  const d = data as Record<string, unknown>;
  // OAuth / STS: {"error": "invalid_grant", "error_description": "..."}
  if (typeof d.error === "string") {
    return typeof d.error_description === "string" ? `${d.error}: ${d.error_description}` : d.error;
  }
  // Google APIs (iamcredentials): {"error": {"code", "message", "status"}}
  if (typeof d.error === "object" && d.error !== null) {
    const g = d.error as Record<string, unknown>;
    const parts = [g.status, g.message].filter((x): x is string => typeof x === "string");
    return parts.length > 0 ? parts.join(": ") : null;
  }
  return null;
}

function clip(text: string): string {
  return summarize(text, [], MAX_REASON);
}
