// describeIdentity (for `doctor`) and helpText: which Google identity sources
// exist, which one a fetch would use, never a secret, and a metadata probe
// that stays within the deadline.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { describeVia } from "../support/provider.ts";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../src/log.ts";
import type { Context, IdentityReport, ServiceAccountIdentity, Target } from "../../src/provider.ts";
import { provider } from "../../src/providers/gcr.ts";
import type { GcrHost } from "../../src/providers/gcr/hosts.ts";
import { startFakeMetadataServer, type FakeMetadataServer } from "./fakes.ts";

const PRIVATE_KEY = "-----BEGIN PRIVATE KEY-----\nsecret-key-material\n-----END PRIVATE KEY-----\n";
const REFRESH_TOKEN = "1//refresh-secret-abcdefghijklmnopqrstuvwxyz";
const IDP = "https://container.googleapis.com/v1/projects/p1/locations/l/clusters/c";

let dir: string;
let md: FakeMetadataServer;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "cch-gcr-doctor-"));
  md = startFakeMetadataServer();
});
afterAll(async () => {
  await md.stop();
  rmSync(dir, { recursive: true, force: true });
});

function target(settings: Record<string, string> = {}): Target<GcrHost> {
  return {
    host: { key: "gcr.io", hostname: "gcr.io", port: null },
    registry: "gcr.io",
    settings,
    details: provider.match("gcr.io")!,
  };
}

function ctx(env: Record<string, string>, extra: { deadlineMs?: number; serviceAccount?: ServiceAccountIdentity } = {}): Context {
  const deadline = Date.now() + (extra.deadlineMs ?? 5_000);
  return {
    env: { GCE_METADATA_HOST: "127.0.0.1:9", GOOGLE_CLOUD_PROJECT: "cch-test-project", HOME: join(dir, "nohome"), ...env },
    now: () => new Date(),
    log: silentLogger,
    signal: AbortSignal.timeout(Math.max(1, deadline - Date.now())),
    deadline,
    config: { path: null, timeoutSeconds: null, registries: new Map() },
    ...(extra.serviceAccount ? { serviceAccount: extra.serviceAccount } : {}),
  };
}

async function report(env: Record<string, string>, settings?: Record<string, string>, extra?: Parameters<typeof ctx>[1]) {
  return describeVia(provider, target(settings), ctx(env, extra));
}

const source = (r: IdentityReport, name: string) => r.sources.find((s) => s.name === name);

function write(name: string, json: unknown): string {
  const path = join(dir, name);
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, JSON.stringify(json));
  return path;
}

describe("describeIdentity", () => {
  test("a key file in GOOGLE_APPLICATION_CREDENTIALS is used and named by its account, never its key", async () => {
    const key = write("sa.json", {
      type: "service_account",
      client_email: "ci@p.iam.gserviceaccount.com",
      private_key: PRIVATE_KEY,
    });
    const r = await report({ GOOGLE_APPLICATION_CREDENTIALS: key, GCE_METADATA_HOST: md.host });
    expect(r.used).toBe("GOOGLE_APPLICATION_CREDENTIALS");
    expect(source(r, "GOOGLE_APPLICATION_CREDENTIALS")).toEqual({
      name: "GOOGLE_APPLICATION_CREDENTIALS",
      found: true,
      detail: `${key} (service_account, ci@p.iam.gserviceaccount.com)`,
    });
    // The metadata server is there too, with the node's account.
    expect(source(r, "metadata server")).toMatchObject({ found: true });
    expect(source(r, "metadata server")!.detail).toContain("node@cch-test-project.iam.gserviceaccount.com");
    expect(JSON.stringify(r)).not.toContain("secret-key-material");
  });

  test("the gcloud ADC file (a user login) is found and used; its refresh token is not shown", async () => {
    const home = join(dir, "home-user");
    write("home-user/.config/gcloud/application_default_credentials.json", {
      type: "authorized_user",
      client_id: "123.apps.googleusercontent.com",
      refresh_token: REFRESH_TOKEN,
    });
    const r = await report({ HOME: home });
    expect(r.used).toBe("gcloud ADC file");
    expect(source(r, "gcloud ADC file")!.detail).toContain("(authorized_user)");
    expect(source(r, "GOOGLE_APPLICATION_CREDENTIALS")).toMatchObject({ found: false, detail: "not set" });
    expect(JSON.stringify(r)).not.toContain("refresh-secret");
  });

  test("an external_account file names its audience; a missing file is reported, not used", async () => {
    const wif = write("wif.json", { type: "external_account", audience: "//iam.googleapis.com/projects/1/x" });
    const ok = await report({ GOOGLE_APPLICATION_CREDENTIALS: wif });
    expect(source(ok, "GOOGLE_APPLICATION_CREDENTIALS")!.detail).toContain("external_account, //iam.googleapis.com/projects/1/x");
    const missing = await report({ GOOGLE_APPLICATION_CREDENTIALS: join(dir, "missing.json") });
    expect(source(missing, "GOOGLE_APPLICATION_CREDENTIALS")).toMatchObject({ found: false });
    expect(missing.used).toBeNull();
  });

  test("only the metadata server: used when it answers, not when it is absent, and none=METADATA_SERVER_DETECTION", async () => {
    expect((await report({ GCE_METADATA_HOST: md.host })).used).toBe("metadata server");
    const absent = await report({});
    expect(absent.used).toBeNull();
    expect(source(absent, "metadata server")).toMatchObject({ found: false });
    expect(source(absent, "metadata server")!.detail).toContain("127.0.0.1:9");
    const none = await report({ GCE_METADATA_HOST: md.host, METADATA_SERVER_DETECTION: "none" });
    expect(source(none, "metadata server")).toEqual({
      name: "metadata server",
      found: false,
      detail: "METADATA_SERVER_DETECTION=none",
    });
  });

  test("a hanging metadata server is given up within the deadline, and no token is ever asked for", async () => {
    const hung = startFakeMetadataServer();
    hung.mode = "hang";
    try {
      const r = await report({ GCE_METADATA_HOST: hung.host }, {}, { deadlineMs: 300 });
      expect(source(r, "metadata server")).toMatchObject({ found: false });
      expect(hung.tokenCalls).toBe(0);
    } finally {
      await hung.stop();
    }
    expect(md.tokenCalls).toBe(0);
  });

  test("gcloud is listed when configured, with its account from gcloud's files", async () => {
    const bin = join(dir, "bin");
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, "gcloud"), "#!/bin/sh\nexit 1\n");
    chmodSync(join(bin, "gcloud"), 0o755);
    const cfg = join(dir, "gcloud-config");
    mkdirSync(join(cfg, "configurations"), { recursive: true });
    writeFileSync(join(cfg, "active_config"), "work\n");
    writeFileSync(join(cfg, "configurations", "config_work"), "[core]\naccount = me@example.com\n");
    const r = await report({ PATH: bin, CLOUDSDK_CONFIG: cfg }, { source: "gcloud" });
    expect(r.used).toBe("gcloud");
    expect(source(r, "gcloud")!.detail).toBe(`${join(bin, "gcloud")}, account work:me@example.com`);
    expect(source((await report({ PATH: bin })) as IdentityReport, "gcloud")).toBeUndefined();
  });

  test("pod identity: configured or not, and used for an opted-in service account", async () => {
    // Not set up: not listed, so doctor's advice for a node never points at it.
    expect(source(await report({}), "pod service account (STS token exchange)")).toBeUndefined();
    const env = { GCE_METADATA_HOST: md.host, CCH_GCR_IDENTITY_PROVIDER: IDP };
    const node = await report(env);
    expect(source(node, "pod service account (STS token exchange)")!.detail).toBe(
      `audience identitynamespace:cch-test-project.svc.id.goog:${IDP} at https://sts.googleapis.com/v1/token`,
    );
    expect(node.used).toBe("metadata server");
    const pod = { token: "pod-token-not-shown", annotations: { "iam.gke.io/enable-wi-image-pull": "true" } };
    const r = await report(env, {}, { serviceAccount: pod });
    expect(r.used).toBe("pod service account (STS token exchange)");
    expect(JSON.stringify(r)).not.toContain("pod-token-not-shown");
    const bad = await report({ CCH_GCR_IDENTITY_PROVIDER: "http://x" });
    expect(source(bad, "pod service account (STS token exchange)")!.detail).toContain("https://");
  });
});

describe("helpText and kubelet settings", () => {
  test("names the settings keys and environment variables", () => {
    for (const word of [
      "impersonateServiceAccount",
      "GOOGLE_APPLICATION_CREDENTIALS",
      "GCE_METADATA_HOST",
      "CCH_GCR_IDENTITY_PROVIDER",
      "CCH_GCR_WORKLOAD_POOL",
      "CCH_GCR_STS_ENDPOINT",
      "iam.gke.io/enable-wi-image-pull",
    ]) {
      expect(provider.manifest.helpText).toContain(word);
    }
  });

  test("service account tokens: the opt-in annotation is passed to the helper, and is optional", () => {
    expect(provider.manifest.serviceAccountTokens?.optionalAnnotationKeys).toEqual(["iam.gke.io/enable-wi-image-pull"]);
    expect(provider.manifest.serviceAccountTokens?.requiredAnnotationKeys ?? []).toEqual([]);
  });
});
