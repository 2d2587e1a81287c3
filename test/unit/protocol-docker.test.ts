import { describe, expect, test } from "bun:test";
import {
  ERR_MISSING_SERVER_URL,
  ERR_MISSING_USERNAME,
  encodeCredentials,
  encodeList,
  parseStoreInput,
  readServerUrl,
  unknownActionMessage,
  usageLine,
  versionLine,
} from "../../src/protocol/docker.ts";

describe("Docker credential helper protocol (pure)", () => {
  test("canonical error texts are exact", () => {
    expect(ERR_MISSING_SERVER_URL).toBe("no credentials server URL");
    expect(ERR_MISSING_USERNAME).toBe("no credentials username");
    expect(unknownActionMessage("bogus")).toBe("Unknown credential action `bogus`");
    expect(usageLine("docker-credential-gcr")).toBe("Usage: docker-credential-gcr <store|get|erase|list|version>");
  });

  test("get input is trimmed plain text; empty is the missing-URL error", () => {
    expect(readServerUrl("gcr.io\n")).toEqual({ ok: true, serverURL: "gcr.io" });
    expect(readServerUrl("  https://gcr.io  ")).toEqual({ ok: true, serverURL: "https://gcr.io" });
    expect(readServerUrl("")).toEqual({ ok: false, message: ERR_MISSING_SERVER_URL });
    expect(readServerUrl("\n\t ")).toEqual({ ok: false, message: ERR_MISSING_SERVER_URL });
  });

  test("store input: field names match case-insensitively, unknown fields ignored, empty secret allowed", () => {
    expect(parseStoreInput('{"serverurl":"h","USERNAME":"u","secret":"s","Extra":1}')).toEqual({
      ok: true,
      credentials: { ServerURL: "h", Username: "u", Secret: "s" },
    });
    expect(parseStoreInput('{"ServerURL":"h","Username":"u"}')).toEqual({
      ok: true,
      credentials: { ServerURL: "h", Username: "u", Secret: "" },
    });
    // Go's decoder: the last spelling present wins.
    const r = parseStoreInput('{"ServerURL":"a","serverURL":"b","Username":"u","Secret":"s"}');
    expect(r.ok && r.credentials.ServerURL).toBe("b");
  });

  test("store input: missing fields give the canonical errors", () => {
    expect(parseStoreInput('{"Username":"u","Secret":"s"}')).toEqual({ ok: false, message: ERR_MISSING_SERVER_URL });
    expect(parseStoreInput('{"ServerURL":"h","Secret":"s"}')).toEqual({ ok: false, message: ERR_MISSING_USERNAME });
    expect(parseStoreInput('{"ServerURL":"h","Username":null,"Secret":"s"}')).toEqual({
      ok: false,
      message: ERR_MISSING_USERNAME,
    });
  });

  test.each(["", "   ", "not json", "[1,2]", "null", '"string"', '{"ServerURL":1,"Username":"u"}', "\u0000\u0001binary"])(
    "store input %p is a clear error",
    (input) => {
      const r = parseStoreInput(input);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.message).toMatch(/invalid credentials on stdin|no credentials/);
    },
  );

  test("store errors never echo the secret", () => {
    const r = parseStoreInput('{"ServerURL":"h","Username":"u","Secret":"hunter2-very-secret",');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).not.toContain("hunter2");
  });

  test("outputs are one JSON value and a newline", () => {
    expect(encodeCredentials({ ServerURL: "gcr.io", Username: "u", Secret: 's"\\' })).toBe(
      '{"ServerURL":"gcr.io","Username":"u","Secret":"s\\"\\\\"}\n',
    );
    expect(encodeList(new Map())).toBe("{}\n");
    expect(encodeList(new Map([["a", "b"]]))).toBe('{"a":"b"}\n');
    expect(versionLine("docker-credential-acr", "1.2.3")).toBe("docker-credential-acr (cloud-credential-helpers) 1.2.3\n");
  });
});
