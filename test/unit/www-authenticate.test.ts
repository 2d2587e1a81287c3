// The Www-Authenticate parser and the checks on ACR's challenge.

import { describe, expect, test } from "bun:test";
import { readAcrChallenge } from "../../src/providers/acr/challenge.ts";
import { parseWwwAuthenticate } from "../../src/protocol/www-authenticate.ts";

describe("parseWwwAuthenticate", () => {
  test("ACR's own challenge", () => {
    expect(parseWwwAuthenticate('Bearer realm="https://r.azurecr.io/oauth2/token",service="r.azurecr.io"')).toEqual([
      { scheme: "bearer", params: { realm: "https://r.azurecr.io/oauth2/token", service: "r.azurecr.io" }, token68: null },
    ]);
  });

  test("any order, case-insensitive names, spaces around = and commas", () => {
    const [c] = parseWwwAuthenticate('bEaReR  SERVICE = "s" ,  Realm= "https://x/y" ,scope="repository:a:pull"');
    expect(c!.params).toEqual({ service: "s", realm: "https://x/y", scope: "repository:a:pull" });
  });

  test("unquoted values, including URLs", () => {
    const [c] = parseWwwAuthenticate("Bearer realm=https://x.azurecr.io/oauth2/token,service=x.azurecr.io");
    expect(c!.params).toEqual({ realm: "https://x.azurecr.io/oauth2/token", service: "x.azurecr.io" });
  });

  test("commas and escaped quotes inside quoted strings", () => {
    const [c] = parseWwwAuthenticate('Bearer scope="repository:a:pull,push", error="say \\"hi\\", ok", realm="https://r/t"');
    expect(c!.params).toEqual({ scope: "repository:a:pull,push", error: 'say "hi", ok', realm: "https://r/t" });
  });

  test("several challenges, token68 and empty ones", () => {
    const list = parseWwwAuthenticate(
      'Negotiate, Basic dXNlcjpwYXNz==, Basic realm="a, b", Bearer realm="https://r/t", service=s',
    );
    expect(list.map((c) => c.scheme)).toEqual(["negotiate", "basic", "basic", "bearer"]);
    expect(list[1]!.token68).toBe("dXNlcjpwYXNz==");
    expect(list[2]!.params).toEqual({ realm: "a, b" });
    expect(list[3]!.params).toEqual({ realm: "https://r/t", service: "s" });
  });

  test("the first occurrence of a parameter wins", () => {
    expect(parseWwwAuthenticate('Bearer realm="https://a/t", realm="https://evil/t"')[0]!.params.realm).toBe("https://a/t");
  });

  test("garbage never throws and never loops", () => {
    for (const h of [
      "",
      ",,,",
      "=",
      '"',
      'Bearer realm="unterminated',
      "Bearer ===,",
      "@@@ Bearer realm=x",
      "Bearer realm",
      "\u0000\u0001",
    ]) {
      expect(() => parseWwwAuthenticate(h)).not.toThrow();
    }
    expect(parseWwwAuthenticate('Bearer realm="unterminated')[0]!.params.realm).toBe("unterminated");
  });
});

describe("readAcrChallenge", () => {
  const endpoint = new URL("https://r.azurecr.io");

  test("a realm on the login server: exchange there, service from the challenge", () => {
    const r = readAcrChallenge(
      'Bearer realm="https://r.azurecr.io/oauth2/token",service="r.azurecr.io"',
      endpoint,
      "r.azurecr.io",
    );
    expect(r).toEqual({
      ok: true,
      challenge: { exchangeUrl: new URL("https://r.azurecr.io/oauth2/exchange"), service: "r.azurecr.io" },
    });
  });

  test("no service: the registry name", () => {
    const r = readAcrChallenge('Bearer realm="https://R.AZURECR.IO:443/oauth2/token"', endpoint, "r.azurecr.io");
    expect(r.ok && r.challenge.service).toBe("r.azurecr.io");
  });

  test("refuses realms elsewhere: other host, look-alike, scheme, port, userinfo", () => {
    for (const realm of [
      "https://evil.com/oauth2/token",
      "https://r.azurecr.io.evil.com/oauth2/token",
      "http://r.azurecr.io/oauth2/token",
      "https://r.azurecr.io:8443/oauth2/token",
      "https://user@r.azurecr.io/oauth2/token",
      "https://r.westeurope.data.azurecr.io/oauth2/token",
    ]) {
      const r = readAcrChallenge(`Bearer realm="${realm}",service="r.azurecr.io"`, endpoint, "r.azurecr.io");
      expect(r.ok).toBe(false);
    }
  });

  test("refuses what is not a Bearer challenge with a realm", () => {
    for (const h of [null, "", 'Basic realm="r"', 'Bearer service="r.azurecr.io"', 'Bearer realm="not a url"']) {
      expect(readAcrChallenge(h, endpoint, "r.azurecr.io").ok).toBe(false);
    }
  });

  test("with an endpoint override the realm must be on that endpoint", () => {
    const local = new URL("http://127.0.0.1:8080");
    expect(readAcrChallenge('Bearer realm="http://127.0.0.1:8080/oauth2/token"', local, "r.azurecr.io").ok).toBe(true);
    expect(readAcrChallenge('Bearer realm="https://r.azurecr.io/oauth2/token"', local, "r.azurecr.io").ok).toBe(false);
  });
});
