import { describe, expect, test } from "bun:test";
import { parseServerUrl } from "../../src/registry.ts";

const key = (input: string) => {
  const r = parseServerUrl(input);
  return r.ok ? r.host.key : `error: ${r.reason}`;
};

describe("parseServerUrl: every form clients send normalises to one host key", () => {
  test.each([
    ["gcr.io", "gcr.io"],
    ["GCR.IO", "gcr.io"],
    ["  gcr.io\n", "gcr.io"],
    ["https://gcr.io", "gcr.io"],
    ["https://gcr.io/", "gcr.io"],
    ["https://gcr.io/v2/", "gcr.io"],
    ["http://gcr.io/v1/", "gcr.io"],
    ["HTTPS://Gcr.Io/v2/project/image", "gcr.io"],
    ["gcr.io/project/image", "gcr.io"],
    ["127.0.0.1:5000", "127.0.0.1:5000"],
    ["https://127.0.0.1:5000/v2/", "127.0.0.1:5000"],
    ["localhost:5000", "localhost:5000"],
    ["[::1]:5000", "[::1]:5000"],
    ["https://index.docker.io/v1/", "docker.io"],
    ["docker.io", "docker.io"],
    ["registry-1.docker.io", "docker.io"],
    ["123456789012.dkr.ecr.us-east-1.amazonaws.com", "123456789012.dkr.ecr.us-east-1.amazonaws.com"],
    ["myreg.azurecr.io:443", "myreg.azurecr.io:443"],
  ])("%p → %p", (input, expected) => {
    expect(key(input)).toBe(expected);
  });

  test("keeps the port apart from the host name for provider matching", () => {
    const r = parseServerUrl("https://Reg.Example.com:8443/v2/");
    expect(r).toEqual({ ok: true, host: { key: "reg.example.com:8443", hostname: "reg.example.com", port: 8443 } });
  });
});

describe("parseServerUrl: anything that is not a plain host is refused", () => {
  test.each([
    ["", "empty server URL"],
    ["   ", "empty server URL"],
    ["https://gcr.io@evil.com", "user information"],
    ["user:pass@gcr.io", "user information"],
    ["https://user@gcr.io/v2/", "user information"],
    ["ftp://gcr.io", "unsupported scheme"],
    ["file:///etc/passwd", "unsupported scheme"],
    ["gcr.io:0", "invalid port"],
    ["gcr.io:99999", "invalid port"],
    ["gcr.io:abc", "invalid port"],
    ["gcr .io", "invalid character"],
    ["gcr.io%2f", "invalid character"],
    ["gcr.io.", "invalid host name"],
    [".gcr.io", "invalid host name"],
    ["-bad.gcr.io", "invalid host name"],
    ["a..b", "invalid host name"],
    ["https://", "no host"],
    ["[::1", "unterminated"],
    ["gcr.io\\evil.com", "invalid character"],
  ])("%p is refused (%s)", (input, reason) => {
    const r = parseServerUrl(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(reason);
  });

  test("a huge input is refused without being echoed", () => {
    const r = parseServerUrl("x".repeat(5000));
    expect(r).toEqual({ ok: false, reason: "server URL is too long" });
  });
});
