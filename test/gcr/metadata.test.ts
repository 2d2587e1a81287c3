// docker-credential-gcr against a fake metadata server: the built binary, as
// docker runs it. Nothing here depends on timing except through CCH_TIMEOUT,
// the deadline the helper itself enforces.

import { afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { requireDist, runHelper } from "../support/env.ts";
import { startFakeMetadataServer, type FakeMetadataServer } from "./fakes.ts";
import { makeGcrEnv, type GcrTestEnv } from "./support.ts";

const NOT_FOUND = "credentials not found in native keychain\n";

describe("docker-credential-gcr with the metadata server", () => {
  let md: FakeMetadataServer;
  let t: GcrTestEnv;

  beforeAll(() => requireDist());
  beforeEach(() => {
    md = startFakeMetadataServer();
    t = makeGcrEnv({ GCE_METADATA_HOST: md.host });
  });
  afterEach(async () => {
    await md.stop();
    t.cleanup();
  });

  test("get returns oauth2accesstoken and the metadata token, with its expiry", async () => {
    const before = Date.now();
    const r = await t.get("us-docker.pkg.dev");
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      ServerURL: "us-docker.pkg.dev",
      Username: "oauth2accesstoken",
      Secret: md.issued[0]!,
    });
    expect(md.tokenCalls).toBe(1);
    const [entry] = t.cacheEntries();
    const expiresAt = entry!.data.expiresAt as number;
    expect(expiresAt).toBeGreaterThanOrEqual(before + 3599_000 - 1000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 3599_000);
    // gcloud is never started unless configured.
    expect(existsSync(t.gcloudMarker)).toBe(false);
  });

  test("every kind of Google host is served, in every shape docker and podman send", async () => {
    for (const host of [
      "gcr.io",
      "https://eu.gcr.io",
      "marketplace.gcr.io/v2/",
      "europe-west4-docker.pkg.dev",
      "docker.me-central2.rep.pkg.dev",
      "container.cloud.google.com",
    ]) {
      const r = await t.get(host);
      expect(r.exitCode).toBe(0);
      expect(JSON.parse(r.stdout).Username).toBe("oauth2accesstoken");
    }
  });

  test("a cached token is served without any call", async () => {
    const first = await t.get("gcr.io");
    expect(first.exitCode).toBe(0);
    const callsAfterFirst = md.calls;
    const second = await t.get("gcr.io");
    expect(second.exitCode).toBe(0);
    expect(JSON.parse(second.stdout).Secret).toBe(JSON.parse(first.stdout).Secret);
    expect(md.calls).toBe(callsAfterFirst);
  });

  test("16 concurrent get on a cold cache make exactly one token call", async () => {
    // assume-present skips the reachability probe, whose short limit could
    // trip on a machine busy starting 16 processes; the probe has its own tests.
    const results = await Promise.all(
      Array.from({ length: 16 }, () => t.get("us-central1-docker.pkg.dev", { METADATA_SERVER_DETECTION: "assume-present" })),
    );
    for (const r of results) {
      expect(r.exitCode).toBe(0);
      expect(JSON.parse(r.stdout).Secret).toBe(md.issued[0]!);
    }
    expect(md.tokenCalls).toBe(1);
  });

  test("spoofed hosts get not-found and cause no call", async () => {
    for (const host of [
      "evilgcr.io",
      "gcr.io.evil.com",
      "https://gcr.io@evil.com",
      "evil.com/gcr.io",
      "us-docker.pkg.dev.evil.com",
      "docker.pkg.dev",
      "a.b.gcr.io",
      "container.cloud.google.com.evil.com",
      "xcontainer.cloud.google.com",
    ]) {
      const r = await t.get(host);
      expect(r.stdout).toBe(NOT_FOUND);
      expect(r.exitCode).toBe(1);
    }
    expect(md.calls).toBe(0);
  });

  test("a token with less than its minimum life left is refreshed; a fresh one replaces it", async () => {
    const first = JSON.parse((await t.get("gcr.io")).stdout).Secret;
    const [entry] = t.cacheEntries();
    // Five seconds left: under the 10 s minimum, so it must not be served.
    writeFileSync(
      entry!.file,
      JSON.stringify({ ...entry!.data, issuedAt: Date.now() - 3_600_000, expiresAt: Date.now() + 5_000 }),
    );
    const r = await t.get("gcr.io");
    expect(r.exitCode).toBe(0);
    const second = JSON.parse(r.stdout).Secret;
    expect(second).not.toBe(first);
    expect(second).toBe(md.issued[1]!);
    expect(md.tokenCalls).toBe(2);
  });

  test("past half its life a token is refreshed; if that fails, the old one is served while it has life left", async () => {
    const first = JSON.parse((await t.get("gcr.io")).stdout).Secret;
    const [entry] = t.cacheEntries();
    writeFileSync(
      entry!.file,
      JSON.stringify({ ...entry!.data, issuedAt: Date.now() - 3_000_000, expiresAt: Date.now() + 600_000 }),
    );
    md.mode = "fail";
    const r = await t.get("gcr.io", { CCH_TIMEOUT: "20" });
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout).Secret).toBe(first);
    expect(md.tokenCalls).toBeGreaterThan(1);
  });

  test("a token close to expiry (GKE) is accepted when at least 10 s are left", async () => {
    md.expiresIn = 30;
    const r = await t.get("gcr.io");
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout).Secret).toBe(md.issued[0]!);
  });

  test("a metadata server that refuses gives a one-line reason and exit 1", async () => {
    md.mode = "fail";
    const r = await t.get("gcr.io", { CCH_TIMEOUT: "20" });
    expect(r.exitCode).toBe(1);
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
    expect(r.stdout).toContain("metadata server");
    expect(r.stdout).toContain("HTTP 500");
    expect(r.stderr).toBe("");
  });

  test("a hanging metadata server ends within CCH_TIMEOUT with a clear error", async () => {
    md.mode = "hang";
    const r = await runHelper("gcr", ["get"], "gcr.io", { ...t.env, CCH_TIMEOUT: "5" }, { timeoutMs: 20_000 });
    expect(r.exitCode).toBe(1);
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
    expect(r.stdout).toMatch(/metadata server at 127\.0\.0\.1:\d+ did not answer/);
  });

  test("a hanging token request (server told to be present) still ends at the deadline", async () => {
    md.mode = "hang";
    const r = await runHelper(
      "gcr",
      ["get"],
      "gcr.io",
      { ...t.env, CCH_TIMEOUT: "2", METADATA_SERVER_DETECTION: "assume-present" },
      { timeoutMs: 20_000 },
    );
    expect(r.exitCode).toBe(1);
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
    expect(r.stdout).toMatch(/deadline/);
  });

  test("list answers from local state, with the metadata server gone", async () => {
    expect((await t.get("europe-docker.pkg.dev")).exitCode).toBe(0);
    await md.stop();
    const r = await runHelper("gcr", ["list"], "unused", t.env);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ "europe-docker.pkg.dev": "oauth2accesstoken" });
  });
});

describe("docker-credential-gcr with no Google identity", () => {
  let t: GcrTestEnv;
  beforeAll(() => requireDist());
  beforeEach(() => {
    t = makeGcrEnv();
  });
  afterEach(() => t.cleanup());

  test("says why in one line and exits 1, without starting gcloud", async () => {
    const r = await t.get("gcr.io");
    expect(r.exitCode).toBe(1);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("no Google identity");
    expect(lines[0]).toContain("GOOGLE_APPLICATION_CREDENTIALS");
    expect(lines[0]).toContain("gcloud auth application-default login");
    expect(r.stderr).toBe("");
    expect(existsSync(t.gcloudMarker)).toBe(false);
  });

  test("no metadata server is remembered for a minute: the next gets (any registry) do not probe again", async () => {
    let probes = 0;
    const silent = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => (probes++, new Response("not a metadata server")) });
    try {
      const env = { GCE_METADATA_HOST: `127.0.0.1:${silent.port}` };
      const first = await t.get("gcr.io", env);
      expect(first.stdout).toContain("is not a metadata server");
      expect(probes).toBe(1);
      for (const host of ["us.gcr.io", "europe-west1-docker.pkg.dev"]) {
        const again = await t.get(host, env);
        expect(again.exitCode).toBe(1);
        expect(again.stdout).toContain("no Google identity");
        expect(again.stdout).toMatch(/\(remembered: not asked again for \d+s; CCH_DISABLE_CACHE=true asks now\)\n$/);
      }
      expect(probes).toBe(1);
      // doctor looks for itself.
      const doctor = await runHelper("gcr", ["doctor", "gcr.io"], "", { ...t.env, ...env });
      expect(doctor.stdout).not.toContain("remembered");
      expect(probes).toBeGreaterThan(1);
      // An identity appearing (an ADC file) is a different identity: asked at once, not answered from memory.
      const adc = `${t.dir}/adc.json`;
      writeFileSync(adc, "{}");
      const withFile = await t.get("gcr.io", { ...env, GOOGLE_APPLICATION_CREDENTIALS: adc });
      expect(withFile.stdout).not.toContain("remembered");
    } finally {
      silent.stop(true);
    }
  });

  test("METADATA_SERVER_DETECTION=none rules the metadata server out without a probe", async () => {
    const r = await t.get("gcr.io", { METADATA_SERVER_DETECTION: "none" });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain("METADATA_SERVER_DETECTION=none");
  });

  test("list is {} and works offline", async () => {
    const r = await runHelper("gcr", ["list"], "unused", t.env);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({});
  });

  test("a credential file that is not usable is named, with what is wrong", async () => {
    const write = (name: string, text: string) => {
      writeFileSync(`${t.dir}/${name}`, text);
      return { GOOGLE_APPLICATION_CREDENTIALS: `${t.dir}/${name}` };
    };
    const notJson = await t.get("gcr.io", write("garbage.json", "not json"));
    expect(notJson.stdout).toContain(`${t.dir}/garbage.json cannot be read or is not a JSON credential file`);
    const noKey = await t.get(
      "gcr.io",
      write("sa.json", JSON.stringify({ type: "service_account", client_email: "a@p.iam.gserviceaccount.com" })),
    );
    expect(noKey.stdout).toContain("needs client_email and private_key");
    const unknown = await t.get("gcr.io", write("odd.json", JSON.stringify({ type: "api_key" })));
    expect(unknown.stdout).toContain('unsupported credential type "api_key"');
    for (const r of [notJson, noKey, unknown]) {
      expect(r.exitCode).toBe(1);
      expect(r.stdout.trim().split("\n")).toHaveLength(1);
    }
  });

  test("a GOOGLE_APPLICATION_CREDENTIALS file that does not exist is named", async () => {
    const r = await t.get("gcr.io", { GOOGLE_APPLICATION_CREDENTIALS: `${t.dir}/missing.json` });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain(`${t.dir}/missing.json does not exist`);
  });
});
