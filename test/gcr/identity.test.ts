// The cheap side of the provider: which ADC source applies, the identity
// string in the cache key, settings, error texts, the metadata probe, and
// that none of it loads google-auth-library.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../../src/config.ts";
import { describeIdentity, findCredentialSource, metadataBaseUrl } from "../../src/providers/gcr/plan.ts";
import { describeGoogleError, scrub } from "../../src/providers/gcr/errors.ts";
import { checkMetadataServer } from "../../src/providers/gcr/metadata.ts";
import { parseGcrSettings, type GcrSettings } from "../../src/providers/gcr/settings.ts";
import { ProviderError } from "../../src/provider.ts";
import { ROOT } from "../support/env.ts";
import { startFakeMetadataServer } from "./fakes.ts";

const ADC: GcrSettings = { source: "adc", impersonate: null };
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "cch-gcr-unit-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("ADC source order", () => {
  test("GOOGLE_APPLICATION_CREDENTIALS first, then the gcloud ADC file, then the metadata server", () => {
    const home = join(dir, "home");
    const adcFile = join(home, ".config", "gcloud", "application_default_credentials.json");
    expect(findCredentialSource({ HOME: home }, ADC)).toEqual({
      kind: "metadata",
      baseUrl: "http://169.254.169.254",
      detection: "auto",
    });
    mkdirSync(join(home, ".config", "gcloud"), { recursive: true });
    writeFileSync(adcFile, "{}");
    expect(findCredentialSource({ HOME: home }, ADC)).toEqual({ kind: "file", origin: "gcloud ADC file", path: adcFile });
    expect(findCredentialSource({ HOME: home, GOOGLE_APPLICATION_CREDENTIALS: "/k.json" }, ADC)).toEqual({
      kind: "file",
      origin: "GOOGLE_APPLICATION_CREDENTIALS",
      path: "/k.json",
    });
    expect(findCredentialSource({ CLOUDSDK_CONFIG: join(home, ".config", "gcloud") }, ADC).kind).toBe("file");
    expect(findCredentialSource({ HOME: home }, { source: "gcloud", impersonate: null })).toEqual({ kind: "gcloud" });
  });

  test("metadata host and detection come from gcp-metadata's variables", () => {
    expect(metadataBaseUrl({ GCE_METADATA_HOST: "127.0.0.1:8080" })).toBe("http://127.0.0.1:8080");
    expect(metadataBaseUrl({ GCE_METADATA_IP: "10.0.0.1", GCE_METADATA_HOST: "x" })).toBe("http://10.0.0.1");
    expect(findCredentialSource({ METADATA_SERVER_DETECTION: "none" }, ADC).kind).toBe("none");
    expect(findCredentialSource({ METADATA_SERVER_DETECTION: "Assume-Present" }, ADC)).toMatchObject({
      detection: "assume-present",
    });
    expect(findCredentialSource({ METADATA_SERVER_DETECTION: "bogus" }, ADC).kind).toBe("none");
  });
});

describe("identity in the cache key", () => {
  const file = (name: string, json: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(json));
    return { kind: "file" as const, origin: "GOOGLE_APPLICATION_CREDENTIALS" as const, path };
  };

  test("names the service account, never the key", () => {
    const id = describeIdentity(
      file("sa.json", {
        type: "service_account",
        client_email: "ci@p.iam.gserviceaccount.com",
        private_key: "-----BEGIN PRIVATE KEY-----secret",
      }),
      ADC,
      {},
    );
    expect(id).toBe("file:sa:ci@p.iam.gserviceaccount.com");
  });

  test("a user's identity changes with a new login, and does not contain the refresh token", () => {
    const a = describeIdentity(
      file("u1.json", { type: "authorized_user", client_id: "c", refresh_token: "1//refresh-one" }),
      ADC,
      {},
    );
    const b = describeIdentity(
      file("u2.json", { type: "authorized_user", client_id: "c", refresh_token: "1//refresh-two" }),
      ADC,
      {},
    );
    expect(a).not.toBe(b);
    expect(a).not.toContain("refresh-one");
  });

  test("impersonation and the metadata server are part of it", () => {
    const imp: GcrSettings = {
      source: "adc",
      impersonate: { target: "t@p.iam.gserviceaccount.com", delegates: ["d@p.iam.gserviceaccount.com"], endpoint: null },
    };
    const md = { kind: "metadata" as const, baseUrl: "http://127.0.0.1:1", detection: "auto" as const };
    expect(describeIdentity(md, ADC, {})).toBe("metadata:http://127.0.0.1:1");
    expect(describeIdentity(md, imp, {})).toBe(
      "metadata:http://127.0.0.1:1>as:d@p.iam.gserviceaccount.com>t@p.iam.gserviceaccount.com",
    );
  });

  test("gcloud's account is read from its files, without running it", () => {
    const cfg = join(dir, "gcloud");
    mkdirSync(join(cfg, "configurations"), { recursive: true });
    writeFileSync(join(cfg, "active_config"), "work\n");
    writeFileSync(join(cfg, "configurations", "config_work"), "[core]\naccount = me@example.com\nproject = p\n");
    expect(describeIdentity({ kind: "gcloud" }, ADC, { CLOUDSDK_CONFIG: cfg })).toBe("gcloud:work:me@example.com");
  });

  test("computing it does not load google-auth-library", async () => {
    const script = `
      const { provider } = await import(${JSON.stringify(join(ROOT, "src/providers/gcr.ts"))});
      const target = { host: { key: "gcr.io", hostname: "gcr.io", port: null }, registry: "gcr.io", settings: {}, details: provider.match("gcr.io") };
      const ctx = { env: { HOME: "/nonexistent" }, config: { path: null, timeoutSeconds: null, registries: new Map() } };
      provider.plan(target, ctx);
      console.log(Object.keys(require.cache).filter((k) => k.includes("google-auth-library") || k.includes("gaxios")).length);
    `;
    const proc = Bun.spawnSync([process.execPath, "-e", script], { env: { PATH: process.env.PATH ?? "" } });
    expect(proc.stderr.toString()).toBe("");
    expect(proc.stdout.toString().trim()).toBe("0");
  });
});

describe("settings", () => {
  test("accepted and refused values", () => {
    expect(parseGcrSettings({}, "gcr.io", null)).toEqual({ source: "adc", impersonate: null });
    expect(parseGcrSettings({ source: "gcloud" }, "gcr.io", null).source).toBe("gcloud");
    expect(
      parseGcrSettings(
        { impersonateServiceAccount: "a@p.iam.gserviceaccount.com", impersonationEndpoint: "https://iam.example/" },
        "gcr.io",
        null,
      ).impersonate,
    ).toEqual({ target: "a@p.iam.gserviceaccount.com", delegates: [], endpoint: "https://iam.example" });
    const bad: Array<Record<string, string | string[]>> = [
      { source: "env" },
      { impersonateServiceAccount: "nope" },
      { delegates: ["a@p.iam.gserviceaccount.com"] },
      { impersonateServiceAccount: "a@p.iam.gserviceaccount.com", delegates: ["x"] },
      { impersonateServiceAccount: "a@p.iam.gserviceaccount.com", impersonationEndpoint: "http://10.0.0.1" },
      { impersonateServiceAccount: "a@p.iam.gserviceaccount.com", impersonationEndpoint: "https://u:p@iam.example" },
    ];
    for (const settings of bad) expect(() => parseGcrSettings(settings, "gcr.io", "/c.json")).toThrow(ConfigError);
  });
});

describe("error texts", () => {
  test("OAuth and Google API errors become one short line", () => {
    expect(
      describeGoogleError({ response: { status: 400, data: { error: "invalid_grant", error_description: "Bad\nsubject" } } }),
    ).toBe("HTTP 400 (invalid_grant: Bad subject)");
    expect(
      describeGoogleError({ response: { status: 403, data: { error: { status: "PERMISSION_DENIED", message: "denied" } } } }),
    ).toBe("HTTP 403 (PERMISSION_DENIED: denied)");
    expect(describeGoogleError({ code: "ECONNREFUSED", message: "connect failed" })).toBe("ECONNREFUSED: connect failed");
    expect(describeGoogleError(new Error("x".repeat(1000))).length).toBeLessThanOrEqual(240);
  });

  test("anything shaped like a token is masked", () => {
    const text = scrub("got ya29.abc-DEF_123 and eyJhbGciOi.eyJzdWIiOiJ4In0.sig and 1//0gAbCdEfGhIjKlMnOpQrStUv");
    expect(text).toBe("got [redacted] and [redacted] and [redacted]");
  });
});

describe("metadata probe", () => {
  const base = { detection: "auto" as const, onGoogleCloud: () => false, now: () => Date.now() };

  test("a metadata server answers; a non-Google answer or a hang is refused quickly", async () => {
    const md = startFakeMetadataServer();
    try {
      const deadline = Date.now() + 10_000;
      await checkMetadataServer({ ...base, baseUrl: md.url, signal: new AbortController().signal, deadline });
      expect(md.calls).toBe(1);
      md.mode = "hang";
      const hung = checkMetadataServer({ ...base, baseUrl: md.url, signal: new AbortController().signal, deadline });
      await expect(hung).rejects.toThrow(/did not answer within 0\.5s/);
    } finally {
      await md.stop();
    }
    const other = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("hello") });
    try {
      const r = checkMetadataServer({
        ...base,
        baseUrl: `http://127.0.0.1:${other.port}`,
        signal: new AbortController().signal,
        deadline: Date.now() + 10_000,
      });
      await expect(r).rejects.toThrow(/without Metadata-Flavor: Google/);
    } finally {
      await other.stop(true);
    }
  });

  test("on Google Cloud, or told the server is present, it does not probe", async () => {
    const never = {
      baseUrl: "http://127.0.0.1:9",
      signal: new AbortController().signal,
      deadline: Date.now() + 1000,
      now: () => Date.now(),
    };
    await checkMetadataServer({ ...never, detection: "auto", onGoogleCloud: () => true });
    await checkMetadataServer({ ...never, detection: "assume-present", onGoogleCloud: () => false });
    await expect(checkMetadataServer({ ...never, detection: "bios-only", onGoogleCloud: () => false })).rejects.toThrow(
      ProviderError,
    );
  });
});
