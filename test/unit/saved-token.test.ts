// store/get/erase over an in-process store and cache, with a provider that
// names its token user and longest token life and a controllable clock:
// cloud tokens handed to `store` expire, the token `get` hands out is not
// saved, bad input changes nothing, and a logout racing a refresh leaves no
// token behind.

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TokenCache } from "../../src/cache.ts";
import { EMPTY_CONFIG } from "../../src/config.ts";
import { runAction, type HelperDeps } from "../../src/helper.ts";
import { createLogger } from "../../src/log.ts";
import type { Context, Provider } from "../../src/provider.ts";
import { ownExpiry } from "../../src/saved-token.ts";
import { MIN_REMAINING_MS } from "../../src/cache.ts";
import { CredentialStore, parseStoreFile } from "../../src/store.ts";
import { countingProvider } from "../fixtures/counting-provider.ts";
import { startCountingServer, type CountingServer } from "../fixtures/counting-server.ts";

const HOUR = 3600_000;
const HOST = "a.counting.test";
const provider: Provider = countingProvider as Provider;

let server: CountingServer;
let dir: string;
let clock: number;
beforeAll(() => {
  server = startCountingServer();
});
afterAll(() => server.stop());
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "cch-saved-token-"));
  server.calls = 0;
  clock = Date.now();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function deps(p: Provider = provider): HelperDeps {
  const env = { COUNTING_URL: server.url };
  return {
    provider: p,
    helperName: "docker-credential-counting",
    version: "test",
    env,
    store: new CredentialStore(join(dir, "cfg")),
    cache: new TokenCache(join(dir, "cache")),
    context: (): Context => ({
      env,
      now: () => new Date(clock),
      log: createLogger(() => {}, "test"),
      signal: AbortSignal.timeout(5000),
      deadline: clock + 5000,
      config: EMPTY_CONFIG,
    }),
  };
}

const storeInput = (username: string, secret: string, serverURL = HOST) =>
  JSON.stringify({ ServerURL: serverURL, Username: username, Secret: secret });
const get = async (d = deps()) => {
  const r = await runAction("get", HOST, d);
  return r.exitCode === 0 ? (JSON.parse(r.stdout) as { Username: string; Secret: string }) : null;
};
const saved = (d = deps()) => d.store.get(HOST);
const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
const jwt = (claims: Record<string, unknown>) => `${b64url({ alg: "none" })}.${b64url(claims)}.sig`;

describe("store of a cloud token", () => {
  test("the token get hands out now is not saved, and replaces an older saved login", async () => {
    await deps().store.put(HOST, { serverURL: HOST, username: "counter", secret: "old", expiresAt: clock - 1 });
    const token = await get();
    expect(server.calls).toBe(1);
    const r = await runAction("store", storeInput(token!.Username, token!.Secret), deps());
    expect(r).toEqual({ stdout: "", exitCode: 0 });
    expect(saved()).toBeNull();
    expect((await get())!.Secret).toBe(token!.Secret);
    expect(server.calls).toBe(1);
  });

  test("under the token user: saved with the longest life, served until the margin, then the cloud takes over", async () => {
    expect((await runAction("store", storeInput("counter", "hand-fetched"), deps())).exitCode).toBe(0);
    expect(saved()).toEqual({ serverURL: HOST, username: "counter", secret: "hand-fetched", expiresAt: clock + HOUR });
    expect((await get())!.Secret).toBe("hand-fetched");
    expect(server.calls).toBe(0);
    clock += HOUR - MIN_REMAINING_MS;
    expect((await get())!.Secret).toBe("hand-fetched");
    clock += 1;
    const after = await get();
    expect(after!.Secret).not.toBe("hand-fetched");
    expect(server.calls).toBe(1);
  });

  test("the same token stored again (docker login without -u, served from the store) keeps its expiry", async () => {
    await runAction("store", storeInput("counter", "hand-fetched"), deps());
    clock += HOUR / 2;
    const token = await get();
    expect(token!.Secret).toBe("hand-fetched");
    await runAction("store", storeInput(token!.Username, token!.Secret), deps());
    expect(saved()!.expiresAt).toBe(clock - HOUR / 2 + HOUR);
    expect(server.calls).toBe(0);
  });

  test("the user name is matched without regard to case", async () => {
    await runAction("store", storeInput("COUNTER", "hand-fetched"), deps());
    expect(saved()!.expiresAt).toBe(clock + HOUR);
  });

  test("a token's own expiry wins when it is sooner, never a later one", async () => {
    const soon = jwt({ exp: Math.floor(clock / 1000) + 600 });
    await runAction("store", storeInput("counter", soon), deps());
    expect(saved()!.expiresAt).toBe((Math.floor(clock / 1000) + 600) * 1000);
    const late = jwt({ exp: Math.floor(clock / 1000) + 30 * 24 * 3600 });
    await runAction("store", storeInput("counter", late), deps());
    expect(saved()!.expiresAt).toBe(clock + HOUR);
  });

  test("an ECR password carries its expiration inside", () => {
    const password = Buffer.from(
      JSON.stringify({ payload: "x", datakey: "y", version: "2", expiration: 1_800_000_000 }),
    ).toString("base64");
    expect(ownExpiry(password)).toBe(1_800_000_000_000);
    expect(ownExpiry("plain-opaque-token")).toBeNull();
    expect(ownExpiry(jwt({ sub: "no exp" }))).toBeNull();
  });

  test("an already expired token is refused with one line and nothing is saved", async () => {
    const r = await runAction("store", storeInput("counter", jwt({ exp: Math.floor(clock / 1000) - 5 })), deps());
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe(`the ${provider.manifest.title} token given for ${HOST} has already expired; nothing saved\n`);
    expect(saved()).toBeNull();
  });

  test("any other user name is a login: saved with no expiry, and it wins", async () => {
    await runAction("store", storeInput("alice", "s3cret"), deps());
    expect(saved()).toEqual({ serverURL: HOST, username: "alice", secret: "s3cret" });
    clock += 365 * 24 * HOUR;
    expect((await get())!.Secret).toBe("s3cret");
    expect(server.calls).toBe(0);
  });

  test("a host the cloud does not serve is saved as a login, whatever the user name", async () => {
    const r = await runAction("store", storeInput("counter", "pw", "registry.example.com"), deps());
    expect(r.exitCode).toBe(0);
    expect(deps().store.get("registry.example.com")).toEqual({
      serverURL: "registry.example.com",
      username: "counter",
      secret: "pw",
    });
  });

  test("any other user name is a real password: saved as before, with no expiry", async () => {
    await runAction("store", storeInput("someone", "pw"), deps());
    expect(saved()).toEqual({ serverURL: HOST, username: "someone", secret: "pw" });
  });

  test("a token saved by an earlier release (no expiry recorded) is not served past its own expiry", async () => {
    const d = deps();
    await d.store.put(HOST, { serverURL: HOST, username: "counter", secret: jwt({ exp: Math.floor(clock / 1000) - 1 }) });
    const r = await get(d);
    expect(r!.Secret).toStartWith("counting-token-");
    expect(server.calls).toBe(1);
  });
});

describe("list", () => {
  test("shows saved logins, saved tokens with their expiry and cached tokens; never an expired one, never a secret", async () => {
    await get();
    await runAction("store", storeInput("counter", "hand-fetched", "b.counting.test"), deps());
    await runAction("store", storeInput("alice", "s3cret", "c.counting.test"), deps());
    await deps().store.put("d.counting.test", { serverURL: "d.counting.test", username: "counter", secret: "x", expiresAt: 1 });
    const plain = await runAction("list", "", deps());
    expect(JSON.parse(plain.stdout)).toEqual({ [HOST]: "counter", "b.counting.test": "counter", "c.counting.test": "alice" });
    const details = await runAction("list", "", { ...deps(), listDetails: true });
    expect(JSON.parse(details.stdout)).toEqual({
      [HOST]: { Username: "counter", Source: "cached token", ExpiresAt: new Date(clock + HOUR).toISOString() },
      "b.counting.test": { Username: "counter", Source: "saved token", ExpiresAt: new Date(clock + HOUR).toISOString() },
      "c.counting.test": { Username: "alice", Source: "saved login", ExpiresAt: null },
    });
    for (const secret of ["hand-fetched", "s3cret", "counting-token"]) expect(details.stdout).not.toContain(secret);
  });
});

describe("the store file stays readable by the previous release", () => {
  test("same format version, the three fields it reads, expiry as an extra field", async () => {
    await runAction("store", storeInput("counter", "hand-fetched"), deps());
    const file = JSON.parse(readFileSync(deps().store.path, "utf8"));
    expect(file.version).toBe(1);
    expect(file.credentials[HOST]).toEqual({
      serverURL: HOST,
      username: "counter",
      secret: "hand-fetched",
      expiresAt: clock + HOUR,
    });
  });

  test("a file without expiries reads as logins; a bad expiry reads as expired, never as permanent", () => {
    const parsed = parseStoreFile(
      JSON.stringify({
        version: 1,
        credentials: {
          a: { serverURL: "a", username: "u", secret: "s" },
          b: { serverURL: "b", username: "u", secret: "s", expiresAt: "tomorrow" },
        },
      }),
    );
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(parsed.file.credentials.a).toEqual({ serverURL: "a", username: "u", secret: "s" });
    expect(parsed.file.credentials.b!.expiresAt).toBe(0);
  });
});

describe("bad input stays bad input", () => {
  const cases: Array<[string, string, string]> = [
    ["an empty secret", storeInput("counter", ""), "no credentials secret: an empty password is not saved\n"],
    ["an empty user", storeInput("", "pw"), "no credentials username\n"],
    [
      "user information in the host",
      storeInput("counter", "pw", "https://me@a.counting.test"),
      "invalid server URL: user information is not allowed in a server URL\n",
    ],
    ["a space in the host", storeInput("counter", "pw", "a counting.test"), "invalid server URL: invalid character in host\n"],
    ["another scheme", storeInput("counter", "pw", "ftp://a.counting.test"), "invalid server URL: unsupported scheme ftp\n"],
  ];
  for (const [what, input, message] of cases) {
    test(`${what} is refused with one line and changes nothing`, async () => {
      await runAction("store", storeInput("alice", "before"), deps());
      const before = readFileSync(deps().store.path, "utf8");
      const r = await runAction("store", input, deps());
      expect(r).toEqual({ stdout: message, exitCode: 1 });
      expect(readFileSync(deps().store.path, "utf8")).toBe(before);
    });
  }
});

describe("erase", () => {
  test("a logout while a refresh is in flight leaves no token: the next get goes to the cloud", async () => {
    let started!: () => void;
    const fetchStarted = new Promise<void>((r) => (started = r));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let n = 0;
    const slow: Provider = {
      ...provider,
      async fetch(_target, _plan, ctx) {
        n++;
        if (n === 1) {
          started();
          await gate;
        }
        return { username: "counter", secret: `token-${n}`, expiresAt: new Date(ctx.now().getTime() + HOUR) };
      },
    };
    const inFlight = get(deps(slow));
    await fetchStarted;
    const erase = await runAction("erase", HOST, deps(slow));
    release();
    expect((await inFlight)!.Secret).toBe("token-1");
    // erase found nothing to remove yet (the token was still on its way)…
    expect(erase.exitCode).toBe(1);
    // …and the token written after it is never served. (erase marks the host
    // on the real clock; this test's clock moves past it.)
    clock = Date.now() + 1000;
    expect((await get(deps(slow)))!.Secret).toBe("token-2");
    expect((await get(deps(slow)))!.Secret).toBe("token-2");
    expect(n).toBe(2);
  });

  test("a token fetched after the logout is served as usual", async () => {
    await get();
    expect((await runAction("erase", HOST, deps())).exitCode).toBe(0);
    clock = Date.now() + 1000;
    const first = await get();
    expect((await get())!.Secret).toBe(first!.Secret);
    expect(server.calls).toBe(2);
  });

  test("an unwritable cache directory does not stop the logout", async () => {
    const d = deps();
    await d.store.put(HOST, { serverURL: HOST, username: "alice", secret: "pw" });
    writeFileSync(join(dir, "cache"), "not a directory");
    expect((await runAction("erase", HOST, d)).exitCode).toBe(0);
    expect(existsSync(d.store.path) && d.store.get(HOST)).toBeFalsy();
  });
});
