// Many helper processes at once on a cold cache (kubelet pulling a pod's
// images; the seed provider's IMDS 429 storm, its issue #4): one token call in
// all, every process answers, and they all get the same token. And a lock left
// by a process that died (a lock file naming a dead pid; kill -9 while the
// token endpoint hangs) is recovered rather than waited on until the deadline.

import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TokenCache } from "../../src/cache.ts";
import { DIST, requireDist } from "../support/env.ts";
import { deadPid } from "../support/locks.ts";
import { makeInstanceIdentity, startFakeFederation, startFakeMetadata, type FakeFederation, type FakeMetadata } from "./fakes.ts";
import { credentialOf, setupOci, type OciTest } from "./setup.ts";

requireDist();

const PROCESSES = 32;
let o: OciTest;
const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
  await o.cleanup();
});

async function storm(env: Record<string, string> = {}) {
  const results = await Promise.all(Array.from({ length: PROCESSES }, () => o.get("iad.ocir.io", env)));
  // Every process exits 0 with a full answer (the seed exited 0 with empty stdout when it lost the lock).
  const secrets = results.map((r) => credentialOf(r).Secret);
  expect(new Set(secrets).size).toBe(1);
  return secrets[0]!;
}

describe(`${PROCESSES} concurrent get on a cold cache`, () => {
  test("API key: exactly one token call", async () => {
    o = setupOci();
    const secret = await storm();
    expect(o.ocir.calls).toHaveLength(1);
    expect(o.ocir.issued).toEqual([secret]);
  }, 60_000);

  test("instance principal: one metadata round, one federation call, one token call", async () => {
    o = setupOci({ withConfig: false });
    const identity = await makeInstanceIdentity(join(o.t.dir, "pki"));
    const metadata: FakeMetadata = startFakeMetadata(identity);
    const federation: FakeFederation = startFakeFederation(o.ocir, identity.tenancy);
    stops.push(metadata.stop, federation.stop);
    o.configure({ "iad.ocir.io": { auth: "instance_principal" } });
    const secret = await storm({ CCH_OCI_METADATA_URL: metadata.url, CCH_OCI_FEDERATION_ENDPOINT: federation.url });
    expect(o.ocir.issued).toEqual([secret]);
    expect(o.ocir.calls).toHaveLength(1);
    expect(federation.calls).toBe(1);
    // build() and the federation client's refresh each read the certificate once: one process, not 32.
    expect(metadata.counts.get("identity/cert.pem")).toBeLessThanOrEqual(2);
  }, 60_000);
});

describe("a lock left by a dead process is recovered", () => {
  test("a lock file naming a dead pid for the right key: the next storm still makes exactly one call", async () => {
    o = setupOci();
    // Learn the real cache key, then make its entry stale and leave a dead owner's lock on it.
    credentialOf(await o.get("iad.ocir.io"));
    const cache = new TokenCache(o.t.cacheDir);
    const [entry] = cache.entries();
    cache.write({ ...entry!, issuedAt: Date.now() - 7200_000, expiresAt: Date.now() - 1000 });
    const lock = cache.lockFor(entry!.key);
    writeFileSync(lock, `${await deadPid()} ${Date.now()} deadbeef`, { mode: 0o600 });
    const secret = await storm();
    expect(secret).toBe(o.ocir.issued[1]!);
    expect(o.ocir.calls).toHaveLength(2);
    expect(existsSync(lock)).toBe(false);
  }, 60_000);

  test("kill -9 while the token endpoint hangs: the next get takes over the lock and answers", async () => {
    o = setupOci();
    o.ocir.mode = { kind: "hang" };
    const victim = Bun.spawn([join(DIST, "docker-credential-oci"), "get"], {
      stdin: new Blob(["iad.ocir.io"]),
      stdout: "ignore",
      stderr: "ignore",
      env: o.t.env,
    });
    // It holds the lock once its signed request has arrived.
    for (let i = 0; i < 500 && o.ocir.calls.length === 0; i++) await Bun.sleep(20);
    expect(o.ocir.calls).toHaveLength(1);
    victim.kill("SIGKILL");
    await victim.exited;
    const locks = () => readdirSync(o.t.cacheDir).filter((f) => f.endsWith(".lock"));
    expect(locks()).toHaveLength(1);
    o.ocir.mode = { kind: "ok" };
    const r = credentialOf(await o.get("iad.ocir.io"));
    expect(r.Secret).toBe(o.ocir.issued[0]!);
    expect(o.ocir.calls).toHaveLength(2);
    expect(locks()).toEqual([]);
  }, 60_000);
});
