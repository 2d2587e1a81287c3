// "This text must be a JSON object": one parser for every file and answer we read.

/** The object, or a plain Error saying what is wrong (never echoing the text: it may hold secrets). */
export function parseJsonObject(text: string): Record<string, unknown> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`not valid JSON (${(err as Error).message.replace(/\s+/g, " ").slice(0, 80)})`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) throw new Error("not a JSON object");
  return data as Record<string, unknown>;
}

/** What is wrong with a text that should hold a JSON object, without quoting it (it may hold secrets). */
export function jsonObjectProblem(text: string): "not valid JSON" | "not a JSON object" | null {
  try {
    parseJsonObject(text);
    return null;
  } catch (err) {
    return (err as Error).message.startsWith("not valid JSON") ? "not valid JSON" : "not a JSON object";
  }
}

/** The object, or null when the text is not a JSON object (for files we discard when they are bad). */
export function jsonObjectOrNull(text: string): Record<string, unknown> | null {
  try {
    return parseJsonObject(text);
  } catch {
    return null;
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
