// "This text must be a JSON object": one parser for every file and answer we read.

/** The object, or what is wrong with the text, never quoting it (it may hold secrets). */
export type JsonObjectRead =
  | { ok: true; value: Record<string, unknown> }
  | { ok: false; problem: "not valid JSON" | "not a JSON object"; detail: string };

export function readJsonObject(text: string): JsonObjectRead {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    // The parser's own words (position, token kind), cut short.
    return { ok: false, problem: "not valid JSON", detail: (err as Error).message.replace(/\s+/g, " ").slice(0, 80) };
  }
  return isPlainObject(data) ? { ok: true, value: data } : { ok: false, problem: "not a JSON object", detail: "" };
}

/** The object, or a plain Error saying what is wrong. */
export function parseJsonObject(text: string): Record<string, unknown> {
  const read = readJsonObject(text);
  if (read.ok) return read.value;
  throw new Error(read.detail ? `${read.problem} (${read.detail})` : read.problem);
}

/** The object, or null when the text is not a JSON object (for files we discard when they are bad). */
export function jsonObjectOrNull(text: string): Record<string, unknown> | null {
  const read = readJsonObject(text);
  return read.ok ? read.value : null;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
