// The real gcloud CLI as the oracle, in temporary homes (CLOUDSDK_CONFIG,
// DOCKER_CONFIG), against loopback fakes only:
// - `configure-docker` writes the hosts `gcloud auth configure-docker` writes,
//   with no registry named, with --include-artifact-registry, and with gcloud's
//   positional registry list;
// - src/providers/gcr/registries.ts equals the installed SDK's list;
// - `source: gcloud` gets its token through the real gcloud, activated with a
//   generated service-account key whose token_uri (and auth/token_host) is a
//   strict local fake of Google's token endpoint;
// - the helper itself honours a key file's token_uri, and signs the grant as
//   gcloud does (the same fake accepts both).

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { readGcloudRegistries, sdkRoot } from "../../scripts/gen-gcr-registries.ts";
import { GCLOUD_ARTIFACT_REGISTRY_HOSTS, GCLOUD_DEFAULT_REGISTRIES } from "../../src/providers/gcr/registries.ts";
import { peerTest, requireDist, runCommand, runHelper, which, type RunResult } from "../support/env.ts";
import { generateServiceAccountKey, startFakeTokenEndpoint, type FakeTokenEndpoint } from "./jwt-bearer-fake.ts";
import { makeGcrEnv, type GcrTestEnv } from "./support.ts";

const GCLOUD_QUIET = {
  CLOUDSDK_CORE_DISABLE_USAGE_REPORTING: "true",
  CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK: "true",
  CLOUDSDK_CORE_DISABLE_PROMPTS: "1",
};
// gcloud is slow to start (Python); generous, never a timed assertion.
const SLOW = 60_000;

/** The real gcloud with its own config dir inside the test's home; never the fake gcloud of support.ts. */
function gcloud(t: GcrTestEnv, args: string[]): Promise<RunResult> {
  return runCommand([which("gcloud")!, ...args], "", gcloudEnv(t), { timeoutMs: SLOW });
}

function gcloudEnv(t: GcrTestEnv): Record<string, string> {
  return {
    ...t.env,
    ...GCLOUD_QUIET,
    PATH: t.env.PATH!.split(":").slice(1).join(":"),
    CLOUDSDK_CONFIG: join(t.dir, "gcloud-config"),
  };
}

const helpersIn = (file: string): Record<string, string> => JSON.parse(readFileSync(file, "utf8")).credHelpers;

describe("configure-docker writes what gcloud auth configure-docker writes", () => {
  let ours: GcrTestEnv;
  let theirs: GcrTestEnv;
  beforeAll(() => requireDist());
  afterEach(() => {
    ours?.cleanup();
    theirs?.cleanup();
  });

  const cases: Array<[string, string[]]> = [
    ["no registry named", []],
    ["--include-artifact-registry", ["--include-artifact-registry"]],
    ["a positional registry list", ["us-docker.pkg.dev,europe-west1-docker.pkg.dev,gcr.io"]],
  ];
  for (const [name, args] of cases) {
    peerTest(
      ["gcloud"],
      name,
      async () => {
        ours = makeGcrEnv();
        theirs = makeGcrEnv();
        const g = await gcloud(theirs, ["auth", "configure-docker", ...args, "--quiet"]);
        expect(g.exitCode).toBe(0);
        const r = await runHelper("gcr", ["configure-docker", ...args], "", ours.env);
        expect(r.exitCode).toBe(0);
        const expected = helpersIn(join(theirs.dockerConfig, "config.json"));
        const got = helpersIn(join(ours.dockerConfig, "config.json"));
        // The same hosts, in the same order; gcloud names its own helper, we name ours.
        expect(Object.keys(got)).toEqual(Object.keys(expected));
        expect(new Set(Object.values(expected))).toEqual(new Set(["gcloud"]));
        expect(new Set(Object.values(got))).toEqual(new Set(["gcr"]));
      },
      SLOW,
    );
  }

  peerTest(["gcloud"], "the generated lists equal the installed SDK's (scripts/gen-gcr-registries.ts)", () => {
    const sdk = readGcloudRegistries(sdkRoot());
    expect([...GCLOUD_DEFAULT_REGISTRIES]).toEqual(sdk.defaults);
    expect([...GCLOUD_ARTIFACT_REGISTRY_HOSTS]).toEqual(sdk.artifactRegistry);
    expect(sdk.defaults).toContain("staging-k8s.gcr.io");
  });
});

describe("service-account keys and their token_uri", () => {
  const key = generateServiceAccountKey();
  let fake: FakeTokenEndpoint;
  let t: GcrTestEnv;
  beforeAll(() => {
    requireDist();
    fake = startFakeTokenEndpoint(key);
  });
  afterAll(() => fake.stop());
  afterEach(() => t?.cleanup());

  peerTest(
    ["gcloud"],
    "source: gcloud uses the real gcloud, activated with a key whose token_uri is a local fake",
    async () => {
      t = makeGcrEnv();
      const keyFile = key.write(join(t.dir, "key.json"), fake.url);
      expect((await gcloud(t, ["auth", "activate-service-account", `--key-file=${keyFile}`])).exitCode).toBe(0);
      expect((await gcloud(t, ["config", "set", "auth/token_host", fake.url])).exitCode).toBe(0);
      t.writeConfig({ registries: { "gcr.io": { source: "gcloud" } } });
      const before = fake.issued.length;
      const r = await runHelper("gcr", ["get"], "gcr.io", gcloudEnv(t), { timeoutMs: SLOW });
      expect(r.stderr).toBe("");
      expect(r.exitCode).toBe(0);
      const answer = JSON.parse(r.stdout);
      expect(answer.Username).toBe("oauth2accesstoken");
      // The token gcloud got from the fake, for the key's principal.
      expect(fake.issued.slice(before)).toContain(answer.Secret);
      expect(fake.grants.filter((g) => !g.ok).map((g) => g.reason)).toEqual([]);
      expect(fake.grants.at(-1)!.claims.iss).toBe(key.clientEmail);
    },
    SLOW,
  );

  test("GOOGLE_APPLICATION_CREDENTIALS: the key's token_uri receives the grant, signed as gcloud signs it", async () => {
    t = makeGcrEnv();
    const keyFile = key.write(join(t.dir, "key.json"), fake.url);
    const before = fake.grants.length;
    const r = await t.get("gcr.io", { GOOGLE_APPLICATION_CREDENTIALS: keyFile });
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout).Secret).toBe(fake.issued.at(-1)!);
    const mine = fake.grants.slice(before);
    expect(mine.map((g) => g.reason)).toEqual([""]);
    expect(mine[0]!.claims.scope).toBe("https://www.googleapis.com/auth/cloud-platform");
    // Served from the cache the second time: no second grant.
    expect((await t.get("gcr.io", { GOOGLE_APPLICATION_CREDENTIALS: keyFile })).exitCode).toBe(0);
    expect(fake.grants.length).toBe(before + 1);
  });

  test("a refused grant is one clear line; a token_uri that would leak the assertion is refused before any request", async () => {
    t = makeGcrEnv();
    const other = generateServiceAccountKey(key.clientEmail);
    const wrongKey = other.write(join(t.dir, "other.json"), fake.url);
    const refused = await t.get("gcr.io", { GOOGLE_APPLICATION_CREDENTIALS: wrongKey });
    expect(refused.exitCode).toBe(1);
    expect(refused.stdout.trim().split("\n")).toHaveLength(1);
    expect(refused.stdout).toContain(`refused the key of ${key.clientEmail}: HTTP 400 (invalid_grant: bad signature)`);

    const before = fake.grants.length;
    mkdirSync(join(t.dir, "plain"));
    const plain = key.write(join(t.dir, "plain", "key.json"), "http://token.example.com/token");
    const r = await t.get("gcr.io", { GOOGLE_APPLICATION_CREDENTIALS: plain });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain("token_uri must be an https URL, or http to 127.0.0.1 or [::1]");
    expect(fake.grants.length).toBe(before);
  });

  test("the cache keeps a key with another token_uri apart from the same account at Google", async () => {
    const { describeIdentity } = await import("../../src/providers/gcr/plan.ts");
    t = makeGcrEnv();
    const atFake = key.write(join(t.dir, "fake.json"), fake.url);
    const atGoogle = key.write(join(t.dir, "google.json"), null);
    const id = (path: string) => describeIdentity({ kind: "file", origin: "GOOGLE_APPLICATION_CREDENTIALS", path }, { source: "adc", impersonate: null }, {});
    expect(id(atGoogle)).toBe(`file:sa:${key.clientEmail}`);
    expect(id(atFake)).toBe(`file:sa:${key.clientEmail}@${fake.url}`);
  });
});
