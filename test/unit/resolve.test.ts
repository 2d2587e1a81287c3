// The resolver over an in-process store, cache and the counting provider,
// with a controllable clock.

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TokenCache } from "../../src/cache.ts";
import { parseConfig, EMPTY_CONFIG, type Config } from "../../src/config.ts";
import { createLogger } from "../../src/log.ts";
import type { Context } from "../../src/provider.ts";
import { parseServerUrl, type RegistryHost } from "../../src/registry.ts";
import { cacheKey, resolveCredential } from "../../src/resolve.ts";
import { CredentialStore } from "../../src/store.ts";
import { countingProvider } from "../fixtures/counting-provider.ts";
import { startCountingServer, type CountingServer } from "../fixtures/counting-server.ts";

let server: CountingServer;
let dir: string;
let clock: number;
let logLines: string[];
beforeAll(() => {
  server = startCountingServer();
});
afterAll(() => server.stop());
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "cch-resolve-"));
  server.calls = 0;
  server.mode = "ok";
  server.expiresInSeconds = 3600;
  clock = Date.now();
  logLines = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function host(text: string): RegistryHost {
  const r = parseServerUrl(text);
  if (!r.ok) throw new Error(r.reason);
  return r.host;
}

function deps(config: Config = EMPTY_CONFIG, timeoutMs = 5000, env: Record<string, string> = {}) {
  const ctx: Context = {
    env: { COUNTING_URL: server.url, ...env },
    now: () => new Date(clock),
    log: createLogger((l) => logLines.push(l), "test"),
    signal: AbortSignal.timeout(timeoutMs),
    deadline: clock + timeoutMs,
    config,
  };
  return {
    provider: countingProvider,
    store: new CredentialStore(join(dir, "cfg")),
    cache: new TokenCache(join(dir, "cache")),
    ctx,
  };
}

describe("resolveCredential", () => {
  test("a host the provider does not serve is not found, with no call", async () => {
    for (const h of ["a.counting.test.evil.com", "evilcounting.test", "gcr.io"]) {
      expect((await resolveCredential(host(h), deps())).found).toBe(false);
    }
    expect(server.calls).toBe(0);
  });

  test("cold cache calls the cloud once; then the cache answers", async () => {
    const first = await resolveCredential(host("a.counting.test"), deps());
    expect(first.found && first.source).toBe("cloud");
    const second = await resolveCredential(host("https://a.counting.test/v2/"), deps());
    expect(second.found && second.source).toBe("cache");
    expect(first.found && second.found && first.credential.secret === second.credential.secret).toBe(true);
    expect(server.calls).toBe(1);
  });

  test("a stored credential wins over the cloud", async () => {
    const d = deps();
    await d.store.put("a.counting.test", { serverURL: "a.counting.test", username: "me", secret: "mine" });
    const r = await resolveCredential(host("a.counting.test"), d);
    expect(r.found && r.source).toBe("store");
    expect(r.found && r.credential.secret).toBe("mine");
    expect(server.calls).toBe(0);
  });

  test("refreshes after half-life; a failed refresh serves the still-valid token, an expired one errors", async () => {
    const r1 = await resolveCredential(host("a.counting.test"), deps());
    clock += 31 * 60_000; // past half-life
    const r2 = await resolveCredential(host("a.counting.test"), deps());
    expect(r2.found && r2.source).toBe("cloud");
    expect(r1.found && r2.found && r1.credential.secret !== r2.credential.secret).toBe(true);
    expect(server.calls).toBe(2);

    clock += 31 * 60_000;
    server.mode = "fail";
    const r3 = await resolveCredential(host("a.counting.test"), deps());
    expect(r3.found && r3.source).toBe("stale-cache");
    expect(r3.found && r2.found && r3.credential.secret === r2.credential.secret).toBe(true);
    expect(logLines.join("")).toContain("refresh failed");

    clock += 29 * 60_000; // less than the 60 s margin left
    await expect(resolveCredential(host("a.counting.test"), deps())).rejects.toThrow("HTTP 500");
  });

  test("a token that is already expired is never served nor cached", async () => {
    server.expiresInSeconds = -10;
    await expect(resolveCredential(host("a.counting.test"), deps())).rejects.toThrow("already expired");
    expect(new TokenCache(join(dir, "cache")).entries()).toEqual([]);
  });

  test("a hanging cloud ends at the deadline with a clear error", async () => {
    server.mode = "hang";
    await expect(resolveCredential(host("a.counting.test"), deps(EMPTY_CONFIG, 300))).rejects.toThrow(
      /deadline|abort|timed out/i,
    );
  });

  test("identities never share cache entries", async () => {
    await resolveCredential(host("a.counting.test"), deps(EMPTY_CONFIG, 5000, { COUNTING_IDENTITY: "alice" }));
    await resolveCredential(host("a.counting.test"), deps(EMPTY_CONFIG, 5000, { COUNTING_IDENTITY: "bob" }));
    await resolveCredential(host("a.counting.test"), deps(EMPTY_CONFIG, 5000, { COUNTING_IDENTITY: "alice" }));
    expect(server.calls).toBe(2);
  });

  test("an alias makes a custom host stand for a cloud registry; unknown settings are refused", async () => {
    const config = parseConfig('{"registries":{"127.0.0.1:5000":{"alias":"b.counting.test","flavour":"x"}}}', "/c.json");
    const r = await resolveCredential(host("127.0.0.1:5000"), deps(config));
    expect(r.found && r.target?.registry).toBe("b.counting.test");
    const bad = parseConfig('{"registries":{"127.0.0.1:5000":{"alias":"b.counting.test","colour":"x"}}}', "/c.json");
    await expect(resolveCredential(host("127.0.0.1:5000"), deps(bad))).rejects.toThrow('unknown setting "colour"');
    // An alias pointing outside the provider's pattern is simply not this provider's.
    const other = parseConfig('{"registries":{"127.0.0.1:5000":{"alias":"gcr.io"}}}', "/c.json");
    expect((await resolveCredential(host("127.0.0.1:5000"), deps(other))).found).toBe(false);
  });

  test("service-account mode partitions the cache per pod identity, unless the provider falls back to the node's", () => {
    const target = { host: host("a.counting.test"), registry: "a.counting.test", settings: {}, details: { name: "a" } };
    const base = deps().ctx;
    const pod = { ...base, serviceAccount: { token: "x.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6bnM6c2EifQ.y", annotations: {} } };
    const nodeKey = cacheKey(countingProvider, target, base);
    expect(cacheKey(countingProvider, target, pod)).not.toBe(nodeKey);
    const fallsBack: typeof countingProvider = {
      ...countingProvider,
      plan: (t, c) => ({ ...countingProvider.plan(t, c), pod: false }),
    };
    expect(cacheKey(fallsBack, target, pod)).toBe(nodeKey);
  });

  test("a failure that surely recurs is remembered per identity, not asked again until it lapses", async () => {
    server.mode = "fail";
    const recur = { COUNTING_RECUR_MS: "60000" };
    await expect(resolveCredential(host("a.counting.test"), deps(EMPTY_CONFIG, 5000, recur))).rejects.toThrow("HTTP 500");
    expect(server.calls).toBe(1);
    // Another host, same identity: answered from memory (a docker build asks about every registry).
    await expect(resolveCredential(host("b.counting.test"), deps(EMPTY_CONFIG, 5000, recur))).rejects.toThrow(
      /HTTP 500 \(remembered: not asked again for 60s/,
    );
    expect(server.calls).toBe(1);
    // Another identity is asked.
    await expect(
      resolveCredential(host("a.counting.test"), deps(EMPTY_CONFIG, 5000, { ...recur, COUNTING_IDENTITY: "other" })),
    ).rejects.toThrow("HTTP 500");
    expect(server.calls).toBe(2);
    // Once it lapses, asked again.
    clock += 61_000;
    server.mode = "ok";
    const r = await resolveCredential(host("a.counting.test"), deps(EMPTY_CONFIG, 5000, recur));
    expect(r.found && r.source).toBe("cloud");
    expect(server.calls).toBe(3);
  });

  test("an ordinary failure is not remembered", async () => {
    server.mode = "fail";
    await expect(resolveCredential(host("a.counting.test"), deps())).rejects.toThrow("HTTP 500");
    await expect(resolveCredential(host("a.counting.test"), deps())).rejects.toThrow(/^Counting test registry: counting server answered HTTP 500$/);
    expect(server.calls).toBe(2);
  });

  test("secrets never reach the debug log", async () => {
    server.mode = "ok";
    const r = await resolveCredential(host("a.counting.test"), deps());
    clock += 31 * 60_000;
    server.mode = "fail";
    await resolveCredential(host("a.counting.test"), deps());
    expect(r.found).toBe(true);
    if (r.found) expect(logLines.join("")).not.toContain(r.credential.secret);
  });
});
