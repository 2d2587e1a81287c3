// Herd: many `get` processes on a cold cache make one
// GetAuthorizationToken call, and a lock left behind by a dead process is
// recovered rather than waited on until the deadline.

import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { provider } from "../../src/providers/ecr.ts";
import { deadPid, lockPathFor } from "../support/locks.ts";
import { DIST, recordForLogScan } from "../support/env.ts";

import { HOST, get, useFakeAws, secretOf } from "./support.ts";

const HERD = 32;
const aws = useFakeAws();
const fake = aws.fake;
const env = (extra: Record<string, string> = {}) => aws.env({ extra });

describe("herd", () => {
  test(`${HERD} concurrent gets on a cold cache: one GetAuthorizationToken call, every process answers`, async () => {
    // A slow answer keeps the refresh in flight while the others arrive.
    const t = env({ CCH_TIMEOUT: "60" });
    fake.delayMs = 300;
    const results = await Promise.all(Array.from({ length: HERD }, () => get(t, HOST)));
    expect(fake.count("ecr")).toBe(1);
    const password = fake.calls[0]!.password!;
    for (const r of results) {
      expect({ exitCode: r.exitCode, stderr: r.stderr }).toEqual({ exitCode: 0, stderr: "" });
      expect(JSON.parse(r.stdout)).toEqual({ ServerURL: HOST, Username: "AWS", Secret: password });
    }
    expect(existsSync(lockPathFor(provider, HOST, t.env, t.cacheDir))).toBe(false);
  }, 120_000);

  test("a lock naming a dead process is broken at once: the get answers, with one call", async () => {
    const t = env({ CCH_TIMEOUT: "20" });
    const lock = lockPathFor(provider, HOST, t.env, t.cacheDir);
    mkdirSync(t.cacheDir, { recursive: true, mode: 0o700 });
    // Fresh timestamp: only the dead pid makes it stale, not its age.
    writeFileSync(lock, `${await deadPid()} ${Date.now()} deadbeef`, { mode: 0o600 });
    const r = await get(t, HOST);
    secretOf(r);
    expect(fake.count("ecr")).toBe(1);
    expect(existsSync(lock)).toBe(false);
  });

  test("a process killed with SIGKILL mid-fetch leaves its lock; the next get recovers it", async () => {
    const t = env({ CCH_TIMEOUT: "20" });
    fake.mode = "hang";
    const victim = Bun.spawn([join(DIST, "docker-credential-ecr-login"), "get"], {
      stdin: new Blob([HOST]),
      stdout: "pipe",
      stderr: "pipe",
      env: t.env,
    });
    try {
      for (let i = 0; i < 200 && fake.count("ecr") === 0; i++) await Bun.sleep(50);
      expect(fake.count("ecr")).toBe(1);
      expect(existsSync(lockPathFor(provider, HOST, t.env, t.cacheDir))).toBe(true);
    } finally {
      victim.kill("SIGKILL");
    }
    expect(await victim.exited).not.toBe(0);
    recordForLogScan(HOST, await new Response(victim.stdout).text(), await new Response(victim.stderr).text());
    expect(existsSync(lockPathFor(provider, HOST, t.env, t.cacheDir))).toBe(true);

    fake.mode = "ok";
    const r = await get(t, HOST);
    expect(secretOf(r)).toBe(fake.calls[1]!.password!);
    expect(fake.count("ecr")).toBe(2);
    expect(existsSync(lockPathFor(provider, HOST, t.env, t.cacheDir))).toBe(false);
  });
});
