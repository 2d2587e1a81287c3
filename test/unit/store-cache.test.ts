import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CredentialStore, parseStoreFile } from "../../src/store.ts";
import { TokenCache, isFresh, isUsable, parseCacheEntry, type CacheEntry } from "../../src/cache.ts";
import { withLock, LockTimeoutError } from "../../src/lock.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "cch-unit-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("CredentialStore", () => {
  test("put/get/list/remove round trip; file 0600 in a 0700 directory", async () => {
    const storeDir = join(dir, "a", "b");
    const store = new CredentialStore(storeDir);
    expect(store.get("reg.example.com")).toBeNull();
    await store.put("reg.example.com", { serverURL: "https://reg.example.com", username: "u", secret: "s" });
    expect(store.get("reg.example.com")).toEqual({ serverURL: "https://reg.example.com", username: "u", secret: "s" });
    expect(store.list()).toEqual([["reg.example.com", { serverURL: "https://reg.example.com", username: "u", secret: "s" }]]);
    expect(statSync(store.path).mode & 0o777).toBe(0o600);
    expect(statSync(storeDir).mode & 0o777).toBe(0o700);
    expect(await store.remove("reg.example.com")).toBe(true);
    expect(await store.remove("reg.example.com")).toBe(false);
    expect(store.get("reg.example.com")).toBeNull();
  });

  test("a file that cannot be parsed, or has a newer version, is never overwritten; readers go on without it", async () => {
    const store = new CredentialStore(dir);
    for (const [text, problem] of [
      ["{not json", "is not valid JSON"],
      ['{"version":2,"credentials":{}}', "has format version 2, newer than this helper knows (1)"],
      ["[]", "is not a JSON object"],
    ] as const) {
      writeFileSync(store.path, text, { mode: 0o600 });
      const message = `the saved credentials file ${store.path} ${problem}`;
      // Readers go on without it; writers refuse.
      expect(store.get("x")).toBeNull();
      expect(store.list()).toEqual([]);
      await expect(store.put("x", { serverURL: "x", username: "u", secret: "s" })).rejects.toThrow(message);
      await expect(store.remove("x")).rejects.toThrow(message);
      expect(readFileSync(store.path, "utf8")).toBe(text);
    }
  });

  test("entries and fields this version does not know are written back as they were", async () => {
    const store = new CredentialStore(dir);
    const other = { serverURL: "b", username: "u", secret: "s", expiresAt: 123 };
    writeFileSync(
      store.path,
      JSON.stringify({ version: 1, extra: { keep: true }, credentials: { b: other, c: { username: 1 } } }),
      { mode: 0o600 },
    );
    expect(store.list().map(([k]) => k)).toEqual(["b"]);
    await store.put("a", { serverURL: "a", username: "u", secret: "s" });
    const after = JSON.parse(readFileSync(store.path, "utf8"));
    expect(after).toEqual({
      version: 1,
      extra: { keep: true },
      credentials: { b: other, c: { username: 1 }, a: { serverURL: "a", username: "u", secret: "s" } },
    });
  });

  test("foreign shapes are ignored entry by entry", () => {
    expect(parseStoreFile('{"version":2,"credentials":{}}').ok).toBe(false);
    expect(parseStoreFile("[]").ok).toBe(false);
    const f = parseStoreFile(
      '{"version":1,"credentials":{"a":{"serverURL":"a","username":"u","secret":"s"},"b":{"username":1}}}',
    );
    expect(f.ok && Object.keys(f.file.credentials)).toEqual(["a"]);
  });

  test("concurrent writers do not lose each other's entries", async () => {
    const stores = Array.from({ length: 8 }, () => new CredentialStore(dir));
    await Promise.all(stores.map((s, i) => s.put(`h${i}`, { serverURL: `h${i}`, username: `u${i}`, secret: "s" })));
    expect(new CredentialStore(dir).list().length).toBe(8);
    // No temp files or locks left behind.
    expect(readdirSync(dir).sort()).toEqual(["credentials.json"]);
  });
});

const entry = (over: Partial<CacheEntry> = {}): CacheEntry => ({
  key: "p|h|h|id",
  provider: "p",
  host: "h",
  username: "u",
  secret: "tok",
  issuedAt: 1_000_000,
  expiresAt: 1_000_000 + 3_600_000,
  ...over,
});

describe("TokenCache", () => {
  test("write then read; 0600 file; one file per key", () => {
    const cache = new TokenCache(join(dir, "cache"));
    cache.write(entry());
    cache.write(entry({ key: "p|h2|h2|id", host: "h2" }));
    expect(cache.read("p|h|h|id")).toEqual(entry());
    expect(cache.read("other")).toBeNull();
    expect(statSync(cache.fileFor("p|h|h|id")).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "cache")).mode & 0o777).toBe(0o700);
    expect(cache.entries().length).toBe(2);
  });

  test("a corrupt or foreign file is discarded and removed", () => {
    const cache = new TokenCache(dir);
    writeFileSync(cache.fileFor("k"), "garbage\u0000");
    expect(cache.read("k")).toBeNull();
    expect(() => statSync(cache.fileFor("k"))).toThrow();
    // A valid entry for another key sitting in k's file is not served for k.
    writeFileSync(cache.fileFor("k"), JSON.stringify({ v: 1, ...entry({ key: "not-k" }) }));
    expect(cache.read("k")).toBeNull();
    expect(parseCacheEntry(JSON.stringify({ v: 1, ...entry(), expiresAt: "soon" }))).toBeNull();
  });

  test("removeHost removes only that provider's entries for that host", () => {
    const cache = new TokenCache(dir);
    cache.write(entry());
    cache.write(entry({ key: "p|h|h|id2" }));
    cache.write(entry({ key: "q|h|h|id", provider: "q" }));
    expect(cache.removeHost("p", "h")).toBe(2);
    expect(cache.entries().map((e) => e.provider)).toEqual(["q"]);
  });

  test("fresh until half-life, usable until the margin before expiry", () => {
    const e = entry();
    const half = e.issuedAt + 1_800_000;
    expect(isFresh(e, half - 1, 60_000)).toBe(true);
    expect(isFresh(e, half, 60_000)).toBe(false);
    expect(isUsable(e, half, 60_000)).toBe(true);
    expect(isUsable(e, e.expiresAt - 60_000, 60_000)).toBe(true);
    expect(isUsable(e, e.expiresAt - 59_999, 60_000)).toBe(false);
    expect(isUsable(e, e.expiresAt + 1, 0)).toBe(false);
  });
});

describe("sweepStaleTemps", () => {
  test("removes only old temp files", async () => {
    const { sweepStaleTemps } = await import("../../src/fsutil.ts");
    writeFileSync(join(dir, ".old.tmp"), "x");
    writeFileSync(join(dir, "keep.json"), "x");
    expect(sweepStaleTemps(dir, 60_000)).toBe(0);
    expect(sweepStaleTemps(dir, 60_000, Date.now() + 61_000)).toBe(1);
    expect(readdirSync(dir)).toEqual(["keep.json"]);
  });
});

describe("withLock", () => {
  test("serialises holders in one process", async () => {
    const path = join(dir, "l.lock");
    let inside = 0;
    let maxInside = 0;
    await Promise.all(
      Array.from({ length: 10 }, () =>
        withLock(path, { deadline: Date.now() + 10_000, pollMs: 1 }, async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          await Bun.sleep(2);
          inside--;
        }),
      ),
    );
    expect(maxInside).toBe(1);
  });

  test("a lock left by a dead process is broken", async () => {
    const path = join(dir, "dead.lock");
    writeFileSync(path, `999999 ${Date.now()} abcd`);
    const got = await withLock(path, { deadline: Date.now() + 2000, isAlive: () => false }, async () => "ran");
    expect(got).toBe("ran");
  });

  test("a lock held by a live process times out at the deadline, or ends early when check answers", async () => {
    const path = join(dir, "live.lock");
    writeFileSync(path, `${process.pid} ${Date.now()} abcd`);
    await expect(withLock(path, { deadline: Date.now() + 50 }, async () => "ran")).rejects.toBeInstanceOf(LockTimeoutError);
    let polls = 0;
    const early = await withLock(
      path,
      { deadline: Date.now() + 5000 },
      async () => "ran",
      () => (++polls >= 3 ? "early" : null),
    );
    expect(early).toBe("early");
    // The live lock is untouched.
    expect(readFileSync(path, "utf8")).toContain(String(process.pid));
  });

  test("a very old lock is broken even if its pid is alive (pid reuse)", async () => {
    const path = join(dir, "old.lock");
    writeFileSync(path, `${process.pid} ${Date.now() - 120_000} abcd`);
    expect(await withLock(path, { deadline: Date.now() + 2000 }, async () => "ran")).toBe("ran");
  });
});
