// The exchange in-process, against small purpose-built front ends: what is
// refused, what is never followed, what never reaches a message or a log.

import { provider } from "../../src/providers/acr.ts";
import { afterEach, describe, expect, test } from "bun:test";
import { EMPTY_CONFIG, type RegistrySettings } from "../../src/config.ts";
import { createLogger } from "../../src/log.ts";
import type { Context, Target } from "../../src/provider.ts";
import { ACR_USERNAME, fetchAcrCredential } from "../../src/providers/acr/fetch.ts";
import type { EntraToken } from "../../src/providers/acr/entra.ts";
import { matchLoginServer, type AcrLoginServer } from "../../src/providers/acr/hosts.ts";
import { freePort } from "../support/env.ts";
import { startCountingServer } from "./support/fakes.ts";
import { makeJwt, nowSeconds } from "./support/jwt.ts";

const LOGIN = "myreg.azurecr.io";
const ENTRA_TOKEN = makeJwt({ tid: "tenant-from-token", exp: nowSeconds() + 3600 });
const stops: Array<() => unknown> = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

function frontEnd(handler: (req: Request, origin: string) => Response | Promise<Response>): string {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => handler(req, new URL(req.url).origin) });
  stops.push(() => server.stop(true));
  return server.url.origin;
}

const challenge = (origin: string) =>
  new Response(null, {
    status: 401,
    headers: { "www-authenticate": `Bearer realm="${origin}/oauth2/token",service="${LOGIN}"` },
  });

function setup(endpoint: string, timeoutMs = 5000) {
  const lines: string[] = [];
  const entraCalls: number[] = [];
  const ctx: Context = {
    env: {},
    now: () => new Date(),
    log: createLogger((l) => lines.push(l), "test"),
    signal: AbortSignal.timeout(timeoutMs),
    deadline: Date.now() + timeoutMs,
    config: EMPTY_CONFIG,
  };
  const settings: RegistrySettings = { endpoint };
  const target: Target<AcrLoginServer> = {
    host: { key: LOGIN, hostname: LOGIN, port: null },
    registry: LOGIN,
    settings,
    details: matchLoginServer(LOGIN)!,
  };
  const entra: EntraToken = {
    token: ENTRA_TOKEN,
    expiresOnTimestamp: Date.now() + 3600_000,
    source: { kind: "managed-identity", tenantId: null, clientId: null },
  };
  const deps = {
    getEntraToken: async () => {
      entraCalls.push(1);
      return entra;
    },
  };
  return { run: () => fetchAcrCredential(target, provider.plan(target, ctx), ctx, deps), lines, entraCalls, entra };
}

describe("fetchAcrCredential", () => {
  test("sends the tenant read from the Entra token, returns the null GUID and the refresh token", async () => {
    let form: URLSearchParams | null = null;
    const refresh = makeJwt({ exp: nowSeconds() + 10_800 });
    const url = frontEnd(async (req, origin) => {
      if (req.method === "GET") return challenge(origin);
      form = new URLSearchParams(await req.text());
      return Response.json({ refresh_token: refresh });
    });
    const s = setup(url);
    const cred = await s.run();
    expect(cred.username).toBe(ACR_USERNAME);
    expect(cred.secret).toBe(refresh);
    expect(form!.get("tenant")).toBe("tenant-from-token");
    expect(form!.get("access_token")).toBe(ENTRA_TOKEN);
    expect(s.lines.join("")).not.toContain(refresh);
    expect(s.lines.join("")).not.toContain(ENTRA_TOKEN);
  });

  test("a redirect of the exchange is not followed: the token stays", async () => {
    const thief = startCountingServer();
    stops.push(() => thief.stop());
    const url = frontEnd((req, origin) =>
      req.method === "GET"
        ? challenge(origin)
        : new Response(null, { status: 307, headers: { location: `${thief.url}/oauth2/exchange` } }),
    );
    await expect(setup(url).run()).rejects.toThrow(/refused the token exchange .*HTTP 307/);
    expect(thief.total()).toBe(0);
  });

  test("a redirect of the challenge is not followed either", async () => {
    const thief = startCountingServer();
    stops.push(() => thief.stop());
    const url = frontEnd(() => new Response(null, { status: 302, headers: { location: `${thief.url}/v2/` } }));
    const s = setup(url);
    await expect(s.run()).rejects.toThrow(/unexpected answer .*HTTP 302/);
    expect(thief.total()).toBe(0);
    expect(s.entraCalls).toEqual([]);
  });

  test("a /v2/ that asks for nothing is not an ACR login server", async () => {
    const s = setup(frontEnd(() => Response.json({})));
    await expect(s.run()).rejects.toThrow(/HTTP 200 where a 401 challenge was expected/);
    expect(s.entraCalls).toEqual([]);
  });

  test("an error body that echoes the token is masked", async () => {
    const url = frontEnd(async (req, origin) => {
      if (req.method === "GET") return challenge(origin);
      const token = new URLSearchParams(await req.text()).get("access_token");
      return Response.json({ errors: [{ code: "DENIED", message: `token ${token} has no access` }] }, { status: 403 });
    });
    const err = await setup(url)
      .run()
      .catch((e: Error) => e);
    expect(String(err)).toMatch(/DENIED: token \[redacted\] has no access/);
    expect(String(err)).not.toContain(ENTRA_TOKEN);
  });

  test("no refresh token in a 200 answer is an error", async () => {
    const url = frontEnd((req, origin) => (req.method === "GET" ? challenge(origin) : Response.json({ access_token: "x" })));
    await expect(setup(url).run()).rejects.toThrow(/without a refresh token/);
  });

  test("a refresh token without a readable exp lives no longer than the Entra token", async () => {
    const url = frontEnd((req, origin) =>
      req.method === "GET" ? challenge(origin) : Response.json({ refresh_token: "opaque-token" }),
    );
    const s = setup(url);
    const cred = await s.run();
    expect(cred.expiresAt.getTime()).toBe(s.entra.expiresOnTimestamp);
  });

  test("an endpoint that does not answer: a clear error", async () => {
    const port = await freePort();
    await expect(setup(`http://127.0.0.1:${port}`).run()).rejects.toThrow(/could not reach http:\/\/127\.0\.0\.1:\d+/);
  });
});
