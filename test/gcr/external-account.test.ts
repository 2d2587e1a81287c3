// Workload identity federation (an external_account config in
// GOOGLE_APPLICATION_CREDENTIALS, its token_url on a local fake STS),
// per-registry impersonation, and the opt-in gcloud source.

import { afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { requireDist } from "../support/env.ts";
import { newToken, startFakeMetadataServer, startFakeSts, type FakeSts } from "./fakes.ts";
import { makeGcrEnv, type GcrTestEnv } from "./support.ts";

const AUDIENCE = "//iam.googleapis.com/projects/123456/locations/global/workloadIdentityPools/ci/providers/github";

function writeExternalAccount(t: GcrTestEnv, sts: FakeSts, extra: Record<string, unknown> = {}): string {
  const subjectFile = join(t.dir, "subject-token");
  writeFileSync(subjectFile, sts.subjectToken);
  const path = join(t.dir, "wif.json");
  writeFileSync(
    path,
    JSON.stringify({
      type: "external_account",
      audience: AUDIENCE,
      subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
      token_url: `${sts.url}/v1/token`,
      credential_source: { file: subjectFile },
      ...extra,
    }),
  );
  return path;
}

describe("docker-credential-gcr with an external_account (workload identity federation) config", () => {
  let sts: FakeSts;
  let t: GcrTestEnv;

  beforeAll(() => requireDist());
  beforeEach(() => {
    sts = startFakeSts();
    t = makeGcrEnv();
    t.env.GOOGLE_APPLICATION_CREDENTIALS = writeExternalAccount(t, sts);
  });
  afterEach(async () => {
    await sts.stop();
    t.cleanup();
  });

  test("exchanges the subject token at token_url and returns the access token", async () => {
    const r = await t.get("asia-northeast1-docker.pkg.dev");
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      ServerURL: "asia-northeast1-docker.pkg.dev",
      Username: "oauth2accesstoken",
      Secret: sts.issued[0]!,
    });
    expect(sts.exchangeCalls).toBe(1);
    // The cache knows whose token it holds: the federation audience, not a secret.
    const [entry] = t.cacheEntries();
    expect(entry!.data.key as string).toContain(AUDIENCE);
    expect(entry!.data.key as string).not.toContain(sts.subjectToken);
  });

  test("cache hit: no second exchange", async () => {
    await t.get("gcr.io");
    await t.get("gcr.io");
    expect(sts.exchangeCalls).toBe(1);
  });

  test("16 concurrent get on a cold cache make exactly one exchange", async () => {
    const results = await Promise.all(Array.from({ length: 16 }, () => t.get("europe-docker.pkg.dev")));
    for (const r of results) expect(JSON.parse(r.stdout).Secret).toBe(sts.issued[0]!);
    expect(sts.exchangeCalls).toBe(1);
  });

  test("a refused exchange gives the OAuth reason in one line, exit 1, no secret", async () => {
    sts.mode = "fail";
    const r = await t.get("gcr.io");
    expect(r.exitCode).toBe(1);
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
    expect(r.stdout).toContain("invalid_grant");
    expect(r.stdout).toContain("The subject token is not valid.");
    expect(r.stdout + r.stderr).not.toContain(sts.subjectToken);
  });

  test("a hanging token_url ends at the deadline", async () => {
    sts.mode = "hang";
    const r = await t.get("gcr.io", { CCH_TIMEOUT: "2" });
    expect(r.exitCode).toBe(1);
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
    expect(r.stdout).toMatch(/deadline/);
  });

  test("service_account_impersonation_url in the config is followed (library-side impersonation)", async () => {
    t.env.GOOGLE_APPLICATION_CREDENTIALS = writeExternalAccount(t, sts, {
      service_account_impersonation_url: `${sts.url}/v1/projects/-/serviceAccounts/ci@proj.iam.gserviceaccount.com:generateAccessToken`,
    });
    const r = await t.get("gcr.io");
    expect(r.exitCode).toBe(0);
    expect(sts.impersonated).toEqual(["ci@proj.iam.gserviceaccount.com"]);
    expect(JSON.parse(r.stdout).Secret).toBe(sts.issued[1]!);
  });

  test("impersonateServiceAccount in the configuration file: a token of that account, cached apart", async () => {
    t.writeConfig({
      registries: {
        "us-docker.pkg.dev": {
          impersonateServiceAccount: "puller@proj.iam.gserviceaccount.com",
          impersonationEndpoint: sts.url,
        },
      },
    });
    const imp = await t.get("us-docker.pkg.dev");
    expect(imp.stderr).toBe("");
    expect(imp.exitCode).toBe(0);
    expect(sts.impersonated).toEqual(["puller@proj.iam.gserviceaccount.com"]);
    expect(JSON.parse(imp.stdout).Secret).toBe(sts.issued[1]!);
    // Another registry without the setting gets the federated identity's own token.
    const plain = await t.get("eu.gcr.io");
    expect(JSON.parse(plain.stdout).Secret).toBe(sts.issued[2]!);
    expect(sts.impersonationCalls).toBe(1);
  });

  test("a refused impersonation says so in one line, naming the account", async () => {
    t.writeConfig({
      registries: {
        "gcr.io": { impersonateServiceAccount: "puller@proj.iam.gserviceaccount.com", impersonationEndpoint: sts.url },
      },
    });
    sts.refuseImpersonation = true;
    const r = await t.get("gcr.io");
    expect(r.exitCode).toBe(1);
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
    expect(r.stdout).toContain("impersonating puller@proj.iam.gserviceaccount.com");
    expect(r.stdout).toContain("PERMISSION_DENIED");
    for (const token of sts.issued) expect(r.stdout).not.toContain(token);
  });

  test("settings with a wrong value or an unknown key are refused with the file named", async () => {
    t.writeConfig({ registries: { "gcr.io": { impersonateServiceAccount: "not an account" } } });
    const bad = await t.get("gcr.io");
    expect(bad.exitCode).toBe(1);
    expect(bad.stdout).toContain(t.configFile);
    expect(bad.stdout).toContain("impersonateServiceAccount");
    t.writeConfig({
      registries: {
        "gcr.io": { impersonationEndpoint: "http://example.com", impersonateServiceAccount: "a@b.iam.gserviceaccount.com" },
      },
    });
    const insecure = await t.get("gcr.io");
    expect(insecure.exitCode).toBe(1);
    expect(insecure.stdout).toContain("https://");
    t.writeConfig({ registries: { "gcr.io": { project: "x" } } });
    const unknown = await t.get("gcr.io");
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stdout).toContain('unknown setting "project"');
    expect(sts.exchangeCalls).toBe(0);
  });
});

describe("docker-credential-gcr with the gcloud source", () => {
  let t: GcrTestEnv;
  const token = newToken("gcloud");
  beforeAll(() => requireDist());
  afterEach(() => t?.cleanup());

  test("runs gcloud only when the registry is configured with source gcloud", async () => {
    const md = startFakeMetadataServer();
    try {
      t = makeGcrEnv({ GCE_METADATA_HOST: md.host }, { token, expiry: new Date(Date.now() + 3_000_000).toISOString() });
      t.writeConfig({ registries: { "europe-docker.pkg.dev": { source: "gcloud" } } });
      const viaMetadata = await t.get("gcr.io");
      expect(JSON.parse(viaMetadata.stdout).Secret).toBe(md.issued[0]!);
      expect(existsSync(t.gcloudMarker)).toBe(false);

      const viaGcloud = await t.get("europe-docker.pkg.dev");
      expect(viaGcloud.exitCode).toBe(0);
      expect(JSON.parse(viaGcloud.stdout)).toEqual({
        ServerURL: "europe-docker.pkg.dev",
        Username: "oauth2accesstoken",
        Secret: token,
      });
      expect(readFileSync(t.gcloudMarker, "utf8")).toContain("config config-helper");
      const [withExpiry] = t.cacheEntries().filter((e) => e.data.host === "europe-docker.pkg.dev");
      expect(Math.abs((withExpiry!.data.expiresAt as number) - (Date.now() + 3_000_000))).toBeLessThan(60_000);
    } finally {
      await md.stop();
    }
  });

  test("gcloud's token can be the source of an impersonation", async () => {
    const sts = startFakeSts();
    try {
      t = makeGcrEnv({}, { token, expiry: new Date(Date.now() + 3_000_000).toISOString() });
      sts.issued.push(token); // the fake IAM endpoint accepts only bearers it knows
      t.writeConfig({
        registries: {
          "gcr.io": {
            source: "gcloud",
            impersonateServiceAccount: "builder@proj.iam.gserviceaccount.com",
            impersonationEndpoint: sts.url,
          },
        },
      });
      const r = await t.get("gcr.io");
      expect(r.stderr).toBe("");
      expect(r.exitCode).toBe(0);
      expect(sts.impersonated).toEqual(["builder@proj.iam.gserviceaccount.com"]);
      expect(JSON.parse(r.stdout).Secret).toBe(sts.issued.at(-1)!);
    } finally {
      await sts.stop();
    }
  });

  test("a failing gcloud gives its reason in one line", async () => {
    t = makeGcrEnv();
    t.writeConfig({ registries: { "gcr.io": { source: "gcloud" } } });
    const r = await t.get("gcr.io");
    expect(r.exitCode).toBe(1);
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
    expect(r.stdout).toContain("fake gcloud has no account");
  });
});
