import { describe, expect, test } from "bun:test";
import { parseSecretEndpoint } from "../../src/endpoint.ts";

describe("parseSecretEndpoint: where an overridden endpoint may receive a secret", () => {
  test.each(["https://sts.example.com/v1/token", "https://10.0.0.4:8443/", "http://127.0.0.1:8080", "http://[::1]:5/x"])(
    "accepts %s",
    (u) => {
      expect(parseSecretEndpoint(u)).not.toBeNull();
    },
  );
  test.each([
    "http://example.com",
    "http://localhost:8080",
    "http://127.0.0.1.evil.com",
    "http://10.0.0.4",
    "https://user:pw@example.com",
    "https://example.com/#frag",
    "https://example.com/?q=1",
    "ftp://127.0.0.1",
    "not a url",
  ])("refuses %s", (u) => {
    expect(parseSecretEndpoint(u)).toBeNull();
  });
  test("a query or a path only when the rules allow it", () => {
    expect(parseSecretEndpoint("https://sts.example.com/token?x=1", { query: true })).not.toBeNull();
    expect(parseSecretEndpoint("https://r.example.com/api", { path: false })).toBeNull();
    expect(parseSecretEndpoint("https://r.example.com/", { path: false })).not.toBeNull();
  });
});
