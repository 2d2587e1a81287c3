// Herd, for every cloud: many `get` processes on a cold cache make one call
// to the cloud and all answer the same token; a lock left behind by a dead
// process (a dead pid in the lock file; kill -9 in the middle of a fetch) is
// recovered rather than waited on until the deadline.

import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { TokenCache } from "../../src/cache.ts";
import { recordForLogScan } from "../support/env.ts";
import { deadPid } from "../support/locks.ts";
import { CLOUDS } from "./clouds.ts";
import { bin, get, locks, secretOf, useCloud } from "./kit.ts";

const HERD = 32;

for (const starter of CLOUDS) {
  describe(`${starter.name}: herd`, () => {
    const use = useCloud(starter);

    test(`${HERD} concurrent gets on a cold cache: one call to the cloud, every process answers the same token`, async () => {
      const c = use.cloud;
      const t = use.env({ CCH_TIMEOUT: "60" });
      // A slow answer keeps the first fetch in flight while the others arrive and wait on its lock.
      c.delay(300);
      const results = await Promise.all(Array.from({ length: HERD }, () => get(c, t)));
      const secrets = results.map((r) => secretOf(c, r));
      expect(c.calls()).toBe(1);
      if (c.identityCalls) expect(c.identityCalls()).toBeLessThanOrEqual(1);
      expect(new Set(secrets).size).toBe(1);
      expect(secrets[0]).toBe(c.issued()[0]!);
      expect(locks(t)).toEqual([]);
    }, 120_000);

    test("a lock naming a dead process is broken at once: the get answers, with one more call", async () => {
      const c = use.cloud;
      const t = use.env({ CCH_TIMEOUT: "20" });
      // Learn the real cache key from a first get, then expire its entry and leave a dead owner's lock on it.
      secretOf(c, await get(c, t));
      const cache = new TokenCache(t.cacheDir);
      const [entry] = cache.entries();
      cache.write({ ...entry!, issuedAt: Date.now() - 7200_000, expiresAt: Date.now() - 1000 });
      const lock = cache.lockFor(entry!.key);
      // A fresh timestamp: only the dead pid makes it stale, not its age.
      writeFileSync(lock, `${await deadPid()} ${Date.now()} deadbeef`, { mode: 0o600 });
      expect(secretOf(c, await get(c, t))).toBe(c.issued()[1]!);
      expect(c.calls()).toBe(2);
      expect(locks(t)).toEqual([]);
    });

    test("a process killed with SIGKILL mid-fetch leaves its lock; the next get recovers it", async () => {
      const c = use.cloud;
      const t = use.env({ CCH_TIMEOUT: "20" });
      c.fault("silent");
      const victim = Bun.spawn([bin(c), "get"], { stdin: new Blob([c.host]), stdout: "pipe", stderr: "pipe", env: t.env });
      try {
        // It holds the lock once its request has reached the cloud.
        for (let i = 0; i < 400 && c.calls() === 0; i++) await Bun.sleep(50);
        expect(c.calls()).toBe(1);
        expect(locks(t)).toHaveLength(1);
      } finally {
        victim.kill("SIGKILL");
      }
      expect(await victim.exited).not.toBe(0);
      recordForLogScan(c.host, await new Response(victim.stdout).text(), await new Response(victim.stderr).text());
      expect(locks(t)).toHaveLength(1);

      c.fault(null);
      expect(secretOf(c, await get(c, t))).toBe(c.issued()[0]!);
      expect(c.calls()).toBe(2);
      expect(locks(t)).toEqual([]);
    });
  });
}
