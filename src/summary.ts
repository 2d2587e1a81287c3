// One line about a failure, safe to show: every error a person sees goes
// through here. Nested causes are flattened, the length has one limit, and
// anything shaped like a JWT (and any secret we were told of) is masked.

export const SUMMARY_LIMIT = 600;
// header.payload.signature, each base64url; eyJ is `{"` encoded.
const JWT_SHAPED = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;

export function summarize(err: unknown, secrets: readonly string[] = [], limit = SUMMARY_LIMIT): string {
  let text = flatten(err);
  for (const secret of secrets) if (secret.length >= 4) text = text.split(secret).join("***");
  text = text.replace(JWT_SHAPED, "***").replace(/\s*\n\s*/g, " ").replace(/\s+/g, " ").trim();
  return text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
}

/** The message, and its causes' messages where they add something. */
function flatten(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current !== undefined && current !== null; depth++) {
    const message = current instanceof Error ? current.message : typeof current === "string" ? current : safeString(current);
    if (message && !parts.some((p) => p.includes(message))) parts.push(message);
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join(": ");
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return "unknown error";
  }
}
