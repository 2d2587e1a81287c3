// kill -9 at random moments while processes write the store and the cache:
// the files are always a complete old or new version, parseable and 0600,
// a lock left behind by a killed writer never blocks the next one, and no
// login that `store` acknowledged is ever lost.

import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../support/env.ts";
import { CredentialStore } from "../../src/store.ts";
import { TokenCache, parseCacheEntry } from "../../src/cache.ts";

const dir = mkdtempSync(join(tmpdir(), "cch-crash-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A fixed seed: failures reproduce.
let seed = 20261124;
const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;

describe("crash safety", () => {
  test("40 rounds of kill -9 during writes leave only whole, private files", async () => {
    const configDir = join(dir, "config");
    const cacheDir = join(dir, "cache");
    for (let round = 0; round < 40; round++) {
      // Two writers at once, so kills also land while one waits for the other's lock.
      const procs = [0, 1].map(() =>
        Bun.spawn([process.execPath, join(ROOT, "test/fixtures/writer-loop.ts"), configDir, cacheDir], {
          stdout: "ignore",
          stderr: "pipe",
        }),
      );
      await Bun.sleep(40 + Math.floor(random() * 120));
      for (const p of procs) p.kill("SIGKILL");
      await Promise.all(procs.map((p) => p.exited));

      // On a loaded machine the writers may be killed before their first write: nothing to check yet.
      if (!existsSync(join(configDir, "credentials.json"))) continue;
      const storeText = readFileSync(join(configDir, "credentials.json"), "utf8");
      const parsed = JSON.parse(storeText);
      expect(parsed.version).toBe(1);
      for (const c of Object.values(parsed.credentials) as Array<{ username: string; secret: string }>) {
        expect(c.secret.endsWith(c.username.slice(1))).toBe(true); // username u<i> goes with secret …<i>
      }
      for (const name of readdirSync(configDir)) expect(statSync(join(configDir, name)).mode & 0o077).toBe(0);
      for (const name of existsSync(cacheDir) ? readdirSync(cacheDir) : []) {
        expect(statSync(join(cacheDir, name)).mode & 0o077).toBe(0);
        if (name.endsWith(".token.json")) expect(parseCacheEntry(readFileSync(join(cacheDir, name), "utf8"))).not.toBeNull();
      }
    }
    // Locks left by the killed writers are recovered: the next writer gets through at once.
    const store = new CredentialStore(configDir);
    await store.put("after.example.com", { serverURL: "after.example.com", username: "u", secret: "s" });
    expect(store.get("after.example.com")?.username).toBe("u");
    expect(new TokenCache(cacheDir).entries().length).toBeGreaterThan(0);
  }, 120_000);

  test("kill -9 during logins: every acknowledged login is still saved", async () => {
    const configDir = join(dir, "logins");
    const acknowledged: string[] = [];
    for (let round = 0; round < 20; round++) {
      const procs = [0, 1].map((w) =>
        Bun.spawn([process.execPath, join(ROOT, "test/fixtures/login-loop.ts"), configDir, `r${round}w${w}`], {
          stdout: "pipe",
          stderr: "pipe",
        }),
      );
      await Bun.sleep(60 + Math.floor(random() * 140));
      for (const p of procs) p.kill("SIGKILL");
      const outputs = await Promise.all(procs.map((p) => new Response(p.stdout).text()));
      await Promise.all(procs.map((p) => p.exited));
      for (const out of outputs) acknowledged.push(...out.split("\n").filter(Boolean));
      const saved = new CredentialStore(configDir);
      for (const key of acknowledged) expect(saved.get(key)?.secret).toBe(`secret-${key.split(".")[0]}`);
    }
    expect(acknowledged.length).toBeGreaterThan(20);
  }, 120_000);
});
