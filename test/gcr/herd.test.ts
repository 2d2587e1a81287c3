// The herd: many helper processes on a cold cache make one token
// call, and a lock left by a killed process does not block the next one.

import { afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { provider } from "../../src/providers/gcr.ts";
import { DIST, requireDist, runCommand } from "../support/env.ts";
import { deadPid, lockPathFor } from "../support/locks.ts";
import { decodeStrict, runAsKubelet } from "../support/kubelet.ts";
import { startFakeMetadataServer, startFakeSts, type FakeMetadataServer } from "./fakes.ts";
import { makeGcrEnv, type GcrTestEnv } from "./support.ts";
import { AUDIENCE, kubeletRequest, OPT_IN, saToken, V1, workloadEnv } from "./pods.ts";

const BIN = () => join(DIST, "docker-credential-gcr");

describe("herd and lock recovery (metadata server)", () => {
  let md: FakeMetadataServer;
  let t: GcrTestEnv;
  beforeAll(() => requireDist());
  beforeEach(() => {
    md = startFakeMetadataServer();
    // assume-present: no reachability probe, so the count is of token requests only.
    t = makeGcrEnv({ GCE_METADATA_HOST: md.host, METADATA_SERVER_DETECTION: "assume-present" });
  });
  afterEach(async () => {
    await md.stop();
    t.cleanup();
  });

  test("32 concurrent get on a cold cache: one token call, every process answers with it", async () => {
    md.delayMs = 300; // the first refresh is still running while the others start
    const results = await Promise.all(
      Array.from({ length: 32 }, () => runCommand([BIN(), "get"], "us-docker.pkg.dev", t.env, { timeoutMs: 60_000 })),
    );
    for (const r of results) {
      expect(r.exitCode).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({
        ServerURL: "us-docker.pkg.dev",
        Username: "oauth2accesstoken",
        Secret: md.issued[0]!,
      });
    }
    expect(md.tokenCalls).toBe(1);
  }, 90_000);

  test("a lock file naming a dead pid for this very key is broken, and the token fetched once", async () => {
    const lock = lockPathFor(provider, "gcr.io", t.env, t.cacheDir);
    mkdirSync(t.cacheDir, { recursive: true, mode: 0o700 });
    writeFileSync(lock, `${await deadPid()} ${Date.now()} deadbeef`, { mode: 0o600 });
    const r = await runCommand([BIN(), "get"], "gcr.io", { ...t.env, CCH_TIMEOUT: "5" }, { timeoutMs: 30_000 });
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout).Secret).toBe(md.issued[0]!);
    expect(md.tokenCalls).toBe(1);
    expect(existsSync(lock)).toBe(false);
  });

  test("kill -9 in the middle of a fetch: the next get recovers the lock and succeeds", async () => {
    md.mode = "hang";
    const victim = Bun.spawn([BIN(), "get"], {
      stdin: new Blob(["gcr.io"]),
      stdout: "pipe",
      stderr: "pipe",
      env: { ...t.env, CCH_TIMEOUT: "30" },
    });
    // Wait until it holds the lock and is waiting on the token request.
    for (let i = 0; i < 500 && md.tokenCalls === 0; i++) await Bun.sleep(20);
    expect(md.tokenCalls).toBe(1);
    expect(existsSync(lockPathFor(provider, "gcr.io", t.env, t.cacheDir))).toBe(true);
    victim.kill("SIGKILL");
    await victim.exited;
    md.mode = "ok";
    const r = await runCommand([BIN(), "get"], "gcr.io", { ...t.env, CCH_TIMEOUT: "5" }, { timeoutMs: 30_000 });
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout).Secret).toBe(md.issued[0]!);
    expect(md.tokenCalls).toBe(2);
  });
});

describe("herd in kubelet service-account mode (STS)", () => {
  test("12 concurrent requests of one service account: one exchange, one credential", async () => {
    requireDist();
    const md = startFakeMetadataServer();
    const sts = startFakeSts();
    const t = workloadEnv(md, sts);
    try {
      const token = saToken("team-a", "puller", "uid-a");
      sts.acceptedSubjects.add(token);
      sts.expectedAudience = AUDIENCE;
      sts.delayMs = 300;
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          runAsKubelet([BIN(), "get-credentials"], t.env, kubeletRequest(`gcr.io/proj/app${i}`, token, OPT_IN)),
        ),
      );
      for (const r of results) expect(decodeStrict(r.stdout, V1).auth["gcr.io"]!.password).toBe(sts.issued[0]!);
      expect(sts.exchangeCalls).toBe(1);
      expect(md.calls).toBe(0);
    } finally {
      await md.stop();
      await sts.stop();
      t.cleanup();
    }
  }, 90_000);
});
