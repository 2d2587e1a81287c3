// Herd: many `docker-credential-acr get` processes on a cold cache
// make one Entra ID call and one exchange, and a lock left behind by a dead
// process is recovered rather than waited on until the deadline.

import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { provider } from "../../src/providers/acr.ts";
import { deadPid, lockPathFor } from "../support/locks.ts";
import { DIST, recordForLogScan, runHelper, type TestEnv } from "../support/env.ts";
import { expectCredential } from "./support/expect.ts";
import { acrTestEnv, LOGIN, servicePrincipalEnv, useWorld } from "./support/setup.ts";

const HERD = 32;
const { w, track } = useWorld();
const env = (extra: Record<string, string> = {}) => {
  const t = acrTestEnv(w, { ...servicePrincipalEnv(w), ...extra });
  return track(t);
};
const get = (t: TestEnv) => runHelper("acr", ["get"], LOGIN, t.env);

describe("herd", () => {
  test(`${HERD} concurrent gets on a cold cache: one Entra ID call, one exchange, every process answers`, async () => {
    // A slow Entra ID keeps the refresh in flight while the others arrive and wait on the lock.
    const t = env({ CCH_TIMEOUT: "60" });
    w.entra.mode = "slow";
    w.entra.delayMs = 300;
    const results = await Promise.all(Array.from({ length: HERD }, () => get(t)));
    expect(w.entra.calls.token).toBe(1);
    expect(w.acr.calls.exchange).toBe(1);
    const issued = w.acr.issued.at(-1)!;
    for (const r of results) expect(expectCredential(r)).toBe(issued);
    expect(existsSync(lockPathFor(provider, LOGIN, t.env, t.cacheDir))).toBe(false);
  }, 120_000);

  test("a lock naming a dead process is broken at once: the get answers, with one exchange", async () => {
    const t = env({ CCH_TIMEOUT: "20" });
    const lock = lockPathFor(provider, LOGIN, t.env, t.cacheDir);
    mkdirSync(t.cacheDir, { recursive: true, mode: 0o700 });
    // A fresh timestamp: only the dead pid makes it stale, not its age.
    writeFileSync(lock, `${await deadPid()} ${Date.now()} deadbeef`, { mode: 0o600 });
    expect(expectCredential(await get(t))).toBe(w.acr.issued.at(-1)!);
    expect(w.acr.calls.exchange).toBe(1);
    expect(existsSync(lock)).toBe(false);
  });

  test("a process killed with SIGKILL mid-fetch leaves its lock; the next get recovers it", async () => {
    const t = env({ CCH_TIMEOUT: "20" });
    w.acr.mode = "hang";
    const victim = Bun.spawn([join(DIST, "docker-credential-acr"), "get"], {
      stdin: new Blob([LOGIN]),
      stdout: "pipe",
      stderr: "pipe",
      env: t.env,
    });
    try {
      for (let i = 0; i < 200 && (w.acr.calls.exchange ?? 0) === 0; i++) await Bun.sleep(50);
      expect(w.acr.calls.exchange).toBe(1);
      expect(existsSync(lockPathFor(provider, LOGIN, t.env, t.cacheDir))).toBe(true);
    } finally {
      victim.kill("SIGKILL");
    }
    expect(await victim.exited).not.toBe(0);
    recordForLogScan(LOGIN, await new Response(victim.stdout).text(), await new Response(victim.stderr).text());
    expect(existsSync(lockPathFor(provider, LOGIN, t.env, t.cacheDir))).toBe(true);

    w.acr.mode = "ok";
    expect(expectCredential(await get(t))).toBe(w.acr.issued.at(-1)!);
    expect(w.acr.calls.exchange).toBe(2);
    expect(existsSync(lockPathFor(provider, LOGIN, t.env, t.cacheDir))).toBe(false);
  });
});
