// One line about a failure, safe to show: every error a person sees goes
// through here. Nested causes are flattened, the length has a limit, and
// anything shaped like a token (JWTs, Google access and refresh tokens) or
// any secret we were told of is masked.

export const SUMMARY_LIMIT = 600;
const MASK = "[redacted]";
const TOKEN_SHAPES = [
  /eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*/g, // JWTs: header.payload.signature, `{"` encoded as eyJ
  /ya29\.[\w.-]+/g, // Google OAuth access tokens
  /1\/\/[\w-]{20,}/g, // Google refresh tokens
];

export function summarize(err: unknown, secrets: readonly (string | undefined)[] = [], limit = SUMMARY_LIMIT): string {
  let text = flatten(err);
  for (const secret of secrets) if (secret && secret.length >= 4) text = text.split(secret).join(MASK);
  for (const shape of TOKEN_SHAPES) text = text.replace(shape, MASK);
  // One line: newlines and other control characters become spaces.
  text = text.replace(/[\u0000-\u001f\u007f]+/g, " ").replace(/\s+/g, " ").trim();
  return text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
}

/** The message, and its causes' messages where they add something. */
function flatten(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current !== undefined && current !== null; depth++) {
    const message = messageOf(current);
    if (message && !parts.some((p) => p.includes(message))) parts.push(message);
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join(": ");
}

/** SDKs throw Errors, plain strings and objects with a message. */
function messageOf(value: unknown): string {
  if (value instanceof Error) return value.message;
  if (typeof value === "string") return value;
  if (typeof value === "object" && typeof (value as { message?: unknown }).message === "string") {
    return (value as { message: string }).message;
  }
  try {
    return String(value);
  } catch {
    return "unknown error";
  }
}
