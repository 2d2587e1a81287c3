// The Docker credential helper protocol as pure functions over text
// (docker/docker-credential-helpers `credentials/credentials.go`).
// Errors go to stdout with exit status 1; these exact texts are how docker,
// podman and skopeo tell "no credentials" from a real failure.

export const ERR_NOT_FOUND = "credentials not found in native keychain";
export const ERR_MISSING_SERVER_URL = "no credentials server URL";
export const ERR_MISSING_USERNAME = "no credentials username";

export const ACTIONS = ["get", "store", "erase", "list", "version"] as const;
export type Action = (typeof ACTIONS)[number];

export interface DockerCredentials {
  ServerURL: string;
  Username: string;
  Secret: string;
}

export function isAction(word: string): word is Action {
  return (ACTIONS as readonly string[]).includes(word);
}

export function usageLine(helperName: string): string {
  return `Usage: ${helperName} <store|get|erase|list|version>`;
}

export function unknownActionMessage(action: string): string {
  return `Unknown credential action \`${action}\``;
}

/** `get`/`erase` input: the server URL as plain text, surrounding space trimmed. */
export function readServerUrl(stdin: string): { ok: true; serverURL: string } | { ok: false; message: string } {
  const serverURL = stdin.trim();
  if (serverURL.length === 0) return { ok: false, message: ERR_MISSING_SERVER_URL };
  return { ok: true, serverURL };
}

/**
 * `store` input: a JSON object whose field names match case-insensitively,
 * as Go's decoder does (when several spellings are present the last one
 * wins); unknown fields are ignored, `null` leaves a field empty.
 */
export function parseStoreInput(stdin: string): { ok: true; credentials: DockerCredentials } | { ok: false; message: string } {
  if (stdin.trim().length === 0)
    return { ok: false, message: "invalid credentials on stdin: expected a JSON object, got nothing" };
  let data: unknown;
  try {
    data = JSON.parse(stdin);
  } catch {
    return { ok: false, message: "invalid credentials on stdin: not valid JSON" };
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    return { ok: false, message: "invalid credentials on stdin: expected a JSON object with ServerURL, Username and Secret" };
  }
  const fields = ["ServerURL", "Username", "Secret"] as const;
  const out: DockerCredentials = { ServerURL: "", Username: "", Secret: "" };
  for (const field of fields) {
    let value: unknown;
    for (const [k, v] of Object.entries(data)) {
      if (k.toLowerCase() === field.toLowerCase()) value = v;
    }
    if (value === undefined || value === null) continue;
    if (typeof value !== "string") return { ok: false, message: `invalid credentials on stdin: ${field} must be a string` };
    out[field] = value;
  }
  if (out.ServerURL.length === 0) return { ok: false, message: ERR_MISSING_SERVER_URL };
  if (out.Username.length === 0) return { ok: false, message: ERR_MISSING_USERNAME };
  return { ok: true, credentials: out };
}

export function encodeCredentials(c: DockerCredentials): string {
  return JSON.stringify({ ServerURL: c.ServerURL, Username: c.Username, Secret: c.Secret }) + "\n";
}

export function encodeList(entries: ReadonlyMap<string, string>): string {
  return JSON.stringify(Object.fromEntries(entries)) + "\n";
}

export function versionLine(helperName: string, version: string): string {
  return `${helperName} (cloud-credential-helpers) ${version}\n`;
}
