// The self-contained demo: builds the binaries, starts local fakes of all
// four clouds' APIs (and, when Debian's docker-registry is installed, a real
// registry per cloud that accepts only that cloud's token), then shows each
// helper answering docker's `get` (cold, then from the cache), skopeo pulling
// through it, kubelet's CredentialProviderRequest, and `doctor`.
// Everything runs on 127.0.0.1 in throwaway directories; no secret is printed.
//
//   npm run demo

import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import { makeTestEnv, runCommand, type TestEnv } from "../test/support/env.ts";
import { startRegistry, skopeoInspect, type LocalRegistry } from "../test/support/registry.ts";
import { startFakeAws } from "../test/ecr/fake-aws.ts";
import { makeEcrEnv, HOST as ECR_HOST } from "../test/ecr/support.ts";
import { startFakeMetadataServer, newToken } from "../test/gcr/fakes.ts";
import { makeGcrEnv } from "../test/gcr/support.ts";
import { LOGIN as ACR_LOGIN } from "../test/acr/support/setup.ts";
import { startFakeAcr, startFakeManagedIdentity } from "../test/acr/support/fakes.ts";
import { setupOci } from "../test/oci/setup.ts";

const root = resolve(import.meta.dir, "..");
const dist = join(root, "dist");
const started = performance.now();
const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);
const say = (s = "") => console.log(s);

interface Scenario {
  title: string;
  helper: "ecr-login" | "gcr" | "acr" | "oci";
  /** The cloud registry the local registry stands in for. */
  alias: string;
  username: string;
  password: string;
  fakeLabel: string;
  env: TestEnv;
  /** Extra per-registry settings (an endpoint override toward the fake). */
  settings: Record<string, string>;
  calls(): number;
  stop(): Promise<void>;
}

function redact(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join(`«${s.length}-char token»`);
  return out;
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await fn();
  return [r, performance.now() - t0];
}

async function scenarios(): Promise<Scenario[]> {
  const out: Scenario[] = [];

  const aws = startFakeAws();
  aws.fixedPassword = `ecr-demo-${randomBytes(8).toString("hex")}`;
  out.push({
    title: "AWS ECR",
    helper: "ecr-login",
    alias: ECR_HOST,
    username: "AWS",
    password: aws.fixedPassword,
    fakeLabel: `fake ECR API ${aws.url} (AWS_ENDPOINT_URL_ECR, SigV4 checked)`,
    env: makeEcrEnv(aws),
    settings: {},
    calls: () => aws.count(),
    stop: () => aws.stop(),
  });

  const gToken = newToken("demo");
  const md = startFakeMetadataServer({ token: gToken });
  out.push({
    title: "Google Artifact Registry",
    helper: "gcr",
    alias: "europe-west1-docker.pkg.dev",
    username: "oauth2accesstoken",
    password: gToken,
    fakeLabel: `fake metadata server ${md.url} (GCE_METADATA_HOST)`,
    env: makeGcrEnv({ GCE_METADATA_HOST: md.host }),
    settings: {},
    calls: () => md.tokenCalls,
    stop: () => md.stop(),
  });

  // Managed identity (as on AKS nodes): plain http on 127.0.0.1, no CA to make.
  const mi = startFakeManagedIdentity();
  const acr = startFakeAcr(ACR_LOGIN, (token) => mi.issued.has(token));
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  // bcrypt (the registry's htpasswd) reads 72 bytes at most: keep the refresh token short.
  const refresh = `${b64({ alg: "none" })}.${b64({ exp: Math.floor(Date.now() / 1000) + 3 * 3600 })}.x`;
  acr.fixedRefreshToken = refresh;
  out.push({
    title: "Azure Container Registry",
    helper: "acr",
    alias: ACR_LOGIN,
    username: "00000000-0000-0000-0000-000000000000",
    password: refresh,
    fakeLabel: `fake managed-identity endpoint ${mi.url} and ACR front end ${acr.url} (challenge, /oauth2/exchange)`,
    env: makeTestEnv({
      IDENTITY_ENDPOINT: `${mi.url}/msi/token`,
      IDENTITY_HEADER: mi.header,
      // Never IMDS: a closed port on loopback.
      AZURE_POD_IDENTITY_AUTHORITY_HOST: "http://127.0.0.1:9",
    }),
    settings: { endpoint: acr.url },
    calls: () => acr.calls.exchange ?? 0,
    stop: async () => {
      await Promise.all([mi.stop(), acr.stop()]);
    },
  });

  const o = setupOci();
  const oToken = `ocir-demo-${randomBytes(8).toString("hex")}`;
  o.ocir.fixedToken = oToken;
  out.push({
    title: "Oracle OCIR",
    helper: "oci",
    alias: "iad.ocir.io",
    username: "BEARER_TOKEN",
    password: oToken,
    fakeLabel: `fake OCIR token endpoint ${o.ocir.url} (verifies the OCI request signature)`,
    env: o.t,
    settings: { tokenEndpoint: o.ocir.url },
    calls: () => o.ocir.calls.length,
    stop: () => o.cleanup(),
  });
  return out;
}

async function show(s: Scenario, withRegistry: boolean, withSkopeo: boolean): Promise<boolean> {
  const bin = join(dist, `docker-credential-${s.helper}`);
  const secrets = [s.password];
  let ok = true;
  say(bold(`── ${s.title}: docker-credential-${s.helper} ${"─".repeat(Math.max(0, 50 - s.title.length - s.helper.length))}`));
  say(dim(`   ${s.fakeLabel}`));

  let registry: LocalRegistry | null = null;
  let host = s.alias;
  try {
    if (withRegistry) {
      registry = await startRegistry([{ username: s.username, password: s.password }]);
      await registry.pushImage("demo/app", "v1", { username: s.username, password: s.password });
      host = registry.host;
      say(dim(`   real registry (docker-registry, htpasswd) on ${host}, declared as an alias of ${s.alias}`));
    }
    const registries: Record<string, Record<string, string>> = {
      [host]: { ...(host === s.alias ? {} : { alias: s.alias }), ...s.settings },
    };
    s.env.writeConfig({ registries });
    const helpers = JSON.stringify({ credHelpers: { [host]: s.helper } });
    writeFileSync(join(s.env.dockerConfig, "config.json"), helpers);
    writeFileSync(s.env.env.REGISTRY_AUTH_FILE!, helpers);

    for (const label of ["cold cache", "cache hit "]) {
      const before = s.calls();
      const [r, ms] = await timed(() => runCommand([bin, "get"], `${host}\n`, s.env.env));
      ok &&= r.exitCode === 0;
      say(
        `   $ echo ${host} | docker-credential-${s.helper} get          ${dim(`${label}, ${ms.toFixed(0)} ms, cloud calls: ${s.calls() - before}`)}`,
      );
      say(`     ${redact(r.stdout.trim() || r.stderr.trim(), secrets)}`);
    }

    if (withSkopeo && registry) {
      const r = await skopeoInspect(host, "demo/app:v1", s.env.env);
      ok &&= r.exitCode === 0;
      say(`   $ skopeo inspect docker://${host}/demo/app:v1`);
      say(`     ${r.exitCode === 0 ? `pulled the manifest: ${JSON.parse(r.stdout).Digest}` : `FAILED: ${r.stderr.trim()}`}`);
    }

    const request = {
      kind: "CredentialProviderRequest",
      apiVersion: "credentialprovider.kubelet.k8s.io/v1",
      image: `${host}/demo/app`,
    };
    const k = await runCommand([bin, "get-credentials"], JSON.stringify(request), s.env.env);
    ok &&= k.exitCode === 0;
    say(`   kubelet → ${JSON.stringify(request)}`);
    say(`   ← ${redact(k.stdout.trim() || k.stderr.trim(), secrets)}`);

    if (registry) {
      const d = await runCommand([bin, "doctor", host], "", s.env.env);
      ok &&= d.exitCode === 0;
      say(`   $ docker-credential-${s.helper} doctor ${host}`);
      for (const line of redact(d.stdout.trim(), secrets).split("\n").slice(1)) say(`   ${line}`);
    }
  } catch (err) {
    ok = false;
    say(`   FAILED: ${(err as Error).message}`);
  } finally {
    await registry?.stop();
  }
  say();
  return ok;
}

say(bold("cloud-credential-helpers demo"));
const build = Bun.spawnSync([process.execPath, join(root, "scripts/build.ts")], { stdout: "pipe", stderr: "pipe" });
if (build.exitCode !== 0) {
  process.stderr.write(build.stderr.toString());
  process.exit(1);
}
say(dim(build.stdout.toString().trim()));
const withRegistry = ["docker-registry", "htpasswd"].every((c) => Bun.which(c));
const withSkopeo = withRegistry && Bun.which("skopeo") !== null;
if (!withRegistry)
  say(dim("(no real registry: apt-get install docker-registry apache2-utils skopeo to see pulls and doctor's registry check)"));
say();

const all = await scenarios();
let failures = 0;
try {
  for (const s of all) if (!(await show(s, withRegistry, withSkopeo))) failures++;
} finally {
  for (const s of all) {
    await s.stop().catch(() => {});
    s.env.cleanup();
  }
}
const seconds = ((performance.now() - started) / 1000).toFixed(1);
say(
  failures === 0
    ? bold(`all ${all.length} helpers worked end to end (${seconds} s)`)
    : bold(`${failures} of ${all.length} scenarios failed (${seconds} s)`),
);
process.exit(failures === 0 ? 0 : 1);
