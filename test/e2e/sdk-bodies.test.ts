// Bodies read inside the cloud SDKs are capped while they stream, like ours:
// an endpoint that answers with 50 MB (sent in 64 KiB chunks as they are
// pulled) makes `get` fail with one line and exit 1, the sender is stopped
// after a few chunks, and the helper's peak memory stays small. Each case
// points one SDK endpoint of an otherwise normal test world (the existing
// fakes and environments) at that sender.

import { afterAll, beforeAll, describe, expect } from "bun:test";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { DIST, peerTest, recordForLogScan, requireDist, type HelperName } from "../support/env.ts";
import { HOST, makeEcrEnv } from "../ecr/support.ts";
import { startFakeAws, type FakeAws } from "../ecr/fake-aws.ts";
import { makeGcrEnv } from "../gcr/support.ts";
import { startFakeSts } from "../gcr/fakes.ts";
import { acrTestEnv, managedIdentityEnv, servicePrincipalEnv, startWorld, type World } from "../acr/support/setup.ts";
import { setupOci } from "../oci/setup.ts";
import { makeInstanceIdentity, startFakeMetadata } from "../oci/fakes.ts";

const BODY_BYTES = 50 * 1024 * 1024;
const CHUNK = 64 * 1024;
/** Peak resident memory a failing `get` must stay under (a cache-miss `get` takes about 60 MiB here). */
const MAX_RSS_BYTES = 150 * 1024 * 1024;
/** Chunks the sender may hand out per request before it is stopped: under half of the body's 800. */
const MAX_CHUNKS_PER_REQUEST = 400;
const TIME = "/usr/bin/time";

interface Big {
  url: string;
  /** 64 KiB chunks pulled from the sender so far. */
  pulled: number;
  /** Requests answered with the big body so far (an SDK may retry). */
  requests: number;
  stop(): void;
}

/** Answers every request with a 50 MB body of spaces (valid JSON's leading whitespace); `plain` paths get short texts. */
function startBig(options: { tls?: { cert: string; key: string }; plain?: Record<string, string> } = {}): Big {
  const state = { pulled: 0, requests: 0 };
  const chunk = new Uint8Array(CHUNK).fill(32);
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    ...(options.tls ? { tls: options.tls } : {}),
    fetch(req) {
      const path = new URL(req.url).pathname;
      for (const [suffix, text] of Object.entries(options.plain ?? {})) if (path.endsWith(suffix)) return new Response(text);
      state.requests++;
      let sent = 0;
      const body = new ReadableStream({
        pull(c) {
          if (sent >= BODY_BYTES) return c.close();
          state.pulled++;
          sent += CHUNK;
          c.enqueue(chunk);
        },
      });
      return new Response(body, { headers: { "content-type": "application/json" } });
    },
  });
  return Object.assign(state, {
    url: `${options.tls ? "https" : "http"}://127.0.0.1:${server.port}`,
    stop: () => void server.stop(true),
  });
}

interface Measured {
  stdout: string;
  stderr: string;
  exitCode: number;
  /** Peak resident set of the helper process (from /usr/bin/time). */
  maxRss: number;
}

/**
 * Runs `get` under /usr/bin/time, which reports the helper's own peak RSS.
 * getrusage of a child of the test runner would count the runner's pages the
 * child had before exec (hundreds of MiB in a full run).
 */
async function measuredGet(helper: HelperName, host: string, env: Record<string, string>): Promise<Measured> {
  const report = join(mkdtempSync(join(tmpdir(), "cch-sdk-bodies-")), "rss");
  const proc = Bun.spawn([TIME, "-f", "%M", "-o", report, join(DIST, `docker-credential-${helper}`), "get"], {
    stdin: new Blob([host]),
    stdout: "pipe",
    stderr: "pipe",
    env,
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 90_000);
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  clearTimeout(timer);
  recordForLogScan(host, stdout, stderr);
  const kib = Number(readFileSync(report, "utf8").trim().split("\n").pop());
  rmSync(dirname(report), { recursive: true, force: true });
  // /usr/bin/time reports a child's exit status through its own.
  return { stdout, stderr, exitCode, maxRss: Number.isFinite(kib) ? kib * 1024 : Infinity };
}

/** One line on stdout naming the oversized answer, exit 1, bounded memory and a sender stopped early. */
function expectCapped(r: Measured, big: Big, says: RegExp): void {
  const report = `exit ${r.exitCode}, peak RSS ${(r.maxRss / 1048576).toFixed(1)} MiB, ${big.pulled} chunks pulled by ${big.requests} requests: ${r.stdout}${r.stderr}`;
  console.log(report);
  expect(r.exitCode).toBe(1);
  expect(r.stdout.trim().split("\n")).toHaveLength(1);
  expect(r.stdout).toMatch(says);
  expect(r.maxRss).toBeLessThan(MAX_RSS_BYTES);
  expect(big.requests).toBeGreaterThan(0);
  expect(big.pulled / big.requests).toBeLessThan(MAX_CHUNKS_PER_REQUEST);
}

const TOO_LARGE = /answered with more than \d+ bytes; not read further/;

beforeAll(() => requireDist());

describe("AWS SDK (a request handler that counts)", () => {
  let fake: FakeAws;
  let big: Big;
  beforeAll(() => {
    fake = startFakeAws();
    big = startBig();
  });
  afterAll(() => {
    fake.stop();
    big.stop();
  });

  async function run(host: string, options: Parameters<typeof makeEcrEnv>[1], files: Record<string, string> = {}) {
    big.pulled = big.requests = 0;
    const t = makeEcrEnv(fake, options);
    try {
      for (const [rel, text] of Object.entries(files)) {
        const path = join(t.dir, rel);
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, text.replaceAll("{dir}", t.dir));
      }
      for (const [k, v] of Object.entries(t.env)) t.env[k] = v.replaceAll("{dir}", t.dir);
      return await measuredGet("ecr-login", host, t.env);
    } finally {
      t.cleanup();
    }
  }

  peerTest([TIME], "ECR GetAuthorizationToken", async () => {
    const r = await run(HOST, { extra: { AWS_ENDPOINT_URL_ECR: big.url } });
    expectCapped(r, big, TOO_LARGE);
  }, 120_000);

  peerTest([TIME], "ECR Public GetAuthorizationToken: not found (anonymous pull), the reason in the debug log", async () => {
    big.pulled = big.requests = 0;
    const t = makeEcrEnv(fake, { extra: { AWS_ENDPOINT_URL_ECR_PUBLIC: big.url } });
    try {
      const r = await measuredGet("ecr-login", "public.ecr.aws", t.env);
      expectCapped(r, big, /^credentials not found in native keychain\n$/);
      expect(readFileSync(t.env.CCH_LOG!, "utf8")).toMatch(/GetAuthorizationToken for ECR Public \(us-east-1\) failed: \S+ answered with more than \d+ bytes; not read further/);
    } finally {
      t.cleanup();
    }
  }, 120_000);

  peerTest([TIME], "STS AssumeRoleWithWebIdentity", async () => {
    const r = await run(
      HOST,
      {
        staticKeys: false,
        extra: {
          AWS_ENDPOINT_URL_STS: big.url,
          AWS_ROLE_ARN: "arn:aws:iam::123456789012:role/puller",
          AWS_WEB_IDENTITY_TOKEN_FILE: "{dir}/web-identity-token",
        },
      },
      { "web-identity-token": "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ0ZXN0In0." },
    );
    expectCapped(r, big, TOO_LARGE);
  }, 120_000);

  peerTest([TIME], "STS AssumeRole (a role profile over keys)", async () => {
    const r = await run(
      HOST,
      { staticKeys: false, extra: { AWS_ENDPOINT_URL_STS: big.url, AWS_PROFILE: "role", AWS_CONFIG_FILE: "{dir}/role-config" } },
      {
        "role-config":
          "[profile role]\nrole_arn = arn:aws:iam::123456789012:role/puller\nsource_profile = keys\n" +
          "[profile keys]\naws_access_key_id = AKIDROLESOURCE\naws_secret_access_key = not-a-real-secret\n",
      },
    );
    expectCapped(r, big, TOO_LARGE);
  }, 120_000);

  peerTest([TIME], "SSO GetRoleCredentials", async () => {
    const start = "https://corp.awsapps.com/start";
    const r = await run(
      HOST,
      { staticKeys: false, extra: { AWS_ENDPOINT_URL_SSO: big.url, AWS_PROFILE: "sso", AWS_CONFIG_FILE: "{dir}/sso-config" } },
      {
        "sso-config": `[profile sso]\nsso_start_url = ${start}\nsso_region = eu-west-1\nsso_account_id = 123456789012\nsso_role_name = ReadOnly\n`,
        [`home/.aws/sso/cache/${createHash("sha1").update(start).digest("hex")}.json`]: JSON.stringify({
          startUrl: start,
          region: "eu-west-1",
          accessToken: "sso-access-token-not-real",
          expiresAt: new Date(Date.now() + 8 * 3600_000).toISOString().replace(/\.\d+Z$/, "Z"),
        }),
      },
    );
    expectCapped(r, big, TOO_LARGE);
  }, 120_000);
});

function externalAccount(tokenUrl: string, source: Record<string, string>): Record<string, unknown> {
  return {
    type: "external_account",
    audience: "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/q",
    subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
    token_url: tokenUrl,
    credential_source: source,
  };
}

describe("google-auth-library (gaxios with a fetch that counts)", () => {
  let big: Big;
  beforeAll(() => (big = startBig()));
  afterAll(() => big.stop());

  peerTest([TIME], "impersonation (iamcredentials generateAccessToken) over workload identity federation", async () => {
    big.pulled = big.requests = 0;
    const sts = startFakeSts();
    const t = makeGcrEnv();
    try {
      const subject = join(t.dir, "subject-token");
      writeFileSync(subject, sts.subjectToken);
      const file = join(t.dir, "external.json");
      writeFileSync(file, JSON.stringify(externalAccount(`${sts.url}/v1/token`, { file: subject })));
      t.writeConfig({
        registries: { "gcr.io": { impersonateServiceAccount: "puller@proj.iam.gserviceaccount.com", impersonationEndpoint: big.url } },
      });
      expectCapped(await measuredGet("gcr", "gcr.io", { ...t.env, GOOGLE_APPLICATION_CREDENTIALS: file }), big, TOO_LARGE);
    } finally {
      t.cleanup();
      await sts.stop();
    }
  }, 120_000);

  peerTest([TIME], "external_account: a subject token from a URL credential source", async () => {
    big.pulled = big.requests = 0;
    const t = makeGcrEnv();
    try {
      const file = join(t.dir, "external.json");
      writeFileSync(
        file,
        JSON.stringify(externalAccount("http://127.0.0.1:9/v1/token", { url: `${big.url}/subject-token` })),
      );
      expectCapped(await measuredGet("gcr", "gcr.io", { ...t.env, GOOGLE_APPLICATION_CREDENTIALS: file }), big, TOO_LARGE);
    } finally {
      t.cleanup();
    }
  }, 120_000);
});

describe("Azure identity (our fetch client for every credential)", () => {
  let w: World;
  let big: Big;
  beforeAll(() => {
    w = startWorld();
    big = startBig({ tls: { cert: w.ca.cert, key: w.ca.key } });
  });
  afterAll(async () => {
    big.stop();
    await w.stop();
  });

  peerTest([TIME], "MSAL: a client secret at Entra ID", async () => {
    big.pulled = big.requests = 0;
    const t = acrTestEnv(w, { ...servicePrincipalEnv(w), AZURE_AUTHORITY_HOST: big.url });
    try {
      expectCapped(await measuredGet("acr", "myreg.azurecr.io", t.env), big, /with a body of more than \d+ bytes/);
    } finally {
      t.cleanup();
    }
  }, 120_000);

  peerTest([TIME], "managed identity (App Service endpoint)", async () => {
    big.pulled = big.requests = 0;
    const plain = startBig();
    const t = acrTestEnv(w, { ...managedIdentityEnv(w), IDENTITY_ENDPOINT: `${plain.url}/msi/token` });
    try {
      expectCapped(await measuredGet("acr", "myreg.azurecr.io", t.env), plain, /with a body of more than \d+ bytes/);
    } finally {
      t.cleanup();
      plain.stop();
    }
  }, 120_000);
});

describe("oci-common (the global fetch capped while it runs; certificates through the builder's supplier setters)", () => {
  peerTest([TIME], "instance principal: certificates from the metadata service", async () => {
    const big = startBig({ plain: { "instance/region": "iad" } });
    const o = setupOci({ withConfig: false });
    try {
      o.configure({ "iad.ocir.io": { auth: "instance_principal" } });
      const r = await measuredGet("oci", "iad.ocir.io", {
        ...o.t.env,
        CCH_OCI_METADATA_URL: `${big.url}/opc/v2/`,
        CCH_OCI_FEDERATION_ENDPOINT: "http://127.0.0.1:9",
      });
      expectCapped(r, big, TOO_LARGE);
    } finally {
      await o.cleanup();
      big.stop();
    }
  }, 120_000);

  peerTest([TIME], "instance principal: the federation endpoint's answer", async () => {
    const pki = mkdtempSync(join(tmpdir(), "cch-sdk-bodies-"));
    const big = startBig();
    const o = setupOci({ withConfig: false });
    const metadata = startFakeMetadata(await makeInstanceIdentity(pki));
    try {
      o.configure({ "iad.ocir.io": { auth: "instance_principal" } });
      const r = await measuredGet("oci", "iad.ocir.io", {
        ...o.t.env,
        CCH_OCI_METADATA_URL: metadata.url,
        CCH_OCI_FEDERATION_ENDPOINT: big.url,
      });
      expectCapped(r, big, TOO_LARGE);
    } finally {
      await metadata.stop();
      await o.cleanup();
      big.stop();
      rmSync(pki, { recursive: true, force: true });
    }
  }, 120_000);
});
