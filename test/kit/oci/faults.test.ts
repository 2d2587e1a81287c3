// Fault injection against the OCIR fakes, beyond what the kit's
// test/kit/faults.test.ts (500, slow, silent, malformed, expired, with and
// without a cached token), test/oci/get.test.ts and
// test/oci/instance-principal.test.ts (500/429/malformed bodies, a hanging
// token endpoint, metadata service and federation endpoint) and
// test/kit/oci/kubelet.test.ts (the proxymux) already cover. Every `get` must end by itself
// (exit 0 or 1, never killed by the harness) with one clear line or a
// still-valid cached token, and never hand out an expired token.

import { afterEach, describe, expect, test } from "bun:test";
import { createServer, type Server } from "node:net";
import { TokenCache, type CacheEntry } from "../../../src/cache.ts";
import { requireDist } from "../../support/env.ts";
import { credentialOf, setupOci, type OciTest } from "../../oci/setup.ts";

requireDist();

let o: OciTest;
afterEach(async () => {
  await o.cleanup();
});

const ERROR_PREFIX = "Oracle Cloud Infrastructure Registry: ";

/** Fetches one token, then rewrites its cache entry with the given life left; returns the token. */
async function cachedToken(lifeLeftMs: number, ageMs: number): Promise<CacheEntry> {
  credentialOf(await o.get("iad.ocir.io"));
  const cache = new TokenCache(o.t.cacheDir);
  const [entry] = cache.entries();
  const now = Date.now();
  const aged = { ...entry!, issuedAt: now - ageMs, expiresAt: now + lifeLeftMs };
  cache.write(aged);
  return aged;
}

function expectOneLineError(r: { exitCode: number; stdout: string }, text: string) {
  expect(r.exitCode).toBe(1);
  expect(r.stdout).toStartWith(ERROR_PREFIX);
  expect(r.stdout.trim().split("\n")).toHaveLength(1);
  expect(r.stdout).toContain(text);
}

describe("faults at the token endpoint", () => {
  test("a slow answer within the deadline succeeds", async () => {
    o = setupOci({ env: { CCH_TIMEOUT: "1" } });
    o.ocir.mode = { kind: "slow", ms: 300 };
    expect(credentialOf(await o.get("iad.ocir.io")).Secret).toBe(o.ocir.issued[0]!);
  });

  test("a connection closed without an answer is a clear error", async () => {
    o = setupOci();
    const closing: Server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => closing.listen(0, "127.0.0.1", resolve));
    const port = (closing.address() as { port: number }).port;
    try {
      o.configure({ "iad.ocir.io": { tokenEndpoint: `http://127.0.0.1:${port}` } });
      expectOneLineError(await o.get("iad.ocir.io"), `cannot reach http://127.0.0.1:${port}/20180419/docker/token`);
    } finally {
      closing.close();
    }
  });

  test("a token already expired (expires_in 0 or negative) is refused and never cached", async () => {
    o = setupOci();
    for (const expiresIn of [0, -5]) {
      o.ocir.expiresIn = expiresIn;
      expectOneLineError(await o.get("iad.ocir.io"), "unusable token answer (no positive expires_in)");
    }
    expect(o.ocir.issued).toHaveLength(2);
    expect(new TokenCache(o.t.cacheDir).entries()).toEqual([]);
  });
});

describe("refresh failures with a cached token", () => {
  test("expired, or inside the last 10 s: the failure is reported, the old token never served", async () => {
    o = setupOci();
    for (const lifeLeft of [-1000, 5_000]) {
      const aged = await cachedToken(lifeLeft, 3600_000);
      o.ocir.mode = { kind: "fail", status: 500, body: "oops" };
      const r = await o.get("iad.ocir.io");
      expectOneLineError(r, "answered HTTP 500");
      expect(r.stdout).not.toContain(aged.secret);
      o.ocir.mode = { kind: "ok" };
    }
  });
});
