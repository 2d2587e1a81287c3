// The four clouds at once, for end-to-end tests with container engines: each
// cloud's fake hands out one fixed token, and a real registry (Debian's
// docker-registry) accepts only that token under that cloud's token user. The
// helpers reach the registry on 127.0.0.1 through `alias` in the
// configuration file, and the engines reach the helpers through credHelpers.

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { startFakeAws } from "../ecr/fake-aws.ts";
import { HOST as ECR_HOST, REGION as ECR_REGION } from "../ecr/support.ts";
import { startFakeMetadataServer, newToken } from "../gcr/fakes.ts";
import { LOGIN as ACR_LOGIN, servicePrincipalEnv, startWorld } from "../acr/support/setup.ts";
import { apiKeyProfile, makeApiKey, startFakeOcir, writeOciConfig } from "../oci/fakes.ts";
import { startRegistry, type LocalRegistry, type RegistryUser } from "./registry.ts";
import { runCommand, runHelper, type HelperName, type TestEnv } from "./env.ts";

export const HELPERS: readonly HelperName[] = ["ecr-login", "gcr", "acr", "oci"];
/** Debian's AWS CLI v2 (an older v1 may come first on PATH). */
export const AWS_CLI = "/usr/bin/aws";

export interface Cloud {
  helper: HelperName;
  /** The user name the cloud's registry tokens go with. */
  user: string;
  /** The one token the fake hands out and the registry accepts. */
  token: string;
  /** The expiry the token carries itself, when it carries one (epoch ms). */
  tokenExpiresAt?: number;
  /** What the helper needs to reach the fake (and nothing else). */
  env: Record<string, string>;
  /** The configuration entry that makes a loopback registry this cloud's (alias and endpoints). */
  settings: Record<string, unknown>;
  /**
   * A token fetched by hand, as the cloud documents for `docker login
   * --password-stdin`: for ECR Debian's `aws ecr get-login-password` against
   * the fake; for the others the fake's token (their CLIs are not driven here).
   */
  handToken(env: Record<string, string>): Promise<string>;
  /** How many tokens the fake has handed out. */
  calls(): number;
  stop(): Promise<void>;
}

// bcrypt (htpasswd -B) reads at most 72 bytes of a password: tokens stay short.
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");

export function startClouds(dir: string): Cloud[] {
  mkdirSync(dir, { recursive: true });
  return [ecr(dir), gcr(), acr(), oci(dir)];
}

function ecr(dir: string): Cloud {
  const fake = startFakeAws();
  // Shaped like an ECR password: base64 of a JSON document with its expiration (2 h, sooner than ECR's 12 h).
  const expiration = Math.floor(Date.now() / 1000) + 2 * 3600;
  const token = Buffer.from(JSON.stringify({ payload: randomBytes(4).toString("hex"), expiration })).toString("base64");
  fake.fixedPassword = token;
  const awsConfig = join(dir, "aws-config");
  writeFileSync(awsConfig, "");
  return {
    helper: "ecr-login",
    user: "AWS",
    token,
    env: {
      AWS_ENDPOINT_URL_ECR: fake.url,
      AWS_ENDPOINT_URL_STS: fake.url,
      AWS_CONFIG_FILE: awsConfig,
      AWS_SHARED_CREDENTIALS_FILE: awsConfig,
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_ACCESS_KEY_ID: "AKIDENGINETESTKEY",
      AWS_SECRET_ACCESS_KEY: "test-secret-access-key-not-real",
    },
    settings: { alias: ECR_HOST },
    tokenExpiresAt: expiration * 1000,
    async handToken(env) {
      const cmd = [AWS_CLI, "ecr", "get-login-password", "--region", ECR_REGION, "--endpoint-url", fake.url];
      const r = await runCommand(cmd, "", env, { timeoutMs: 120_000 });
      if (r.exitCode !== 0) throw new Error(`aws ecr get-login-password failed: ${r.stderr}`);
      return r.stdout.trim();
    },
    calls: () => fake.count("ecr"),
    stop: () => fake.stop(),
  };
}

function gcr(): Cloud {
  const token = newToken("engines");
  const md = startFakeMetadataServer({ token });
  return {
    helper: "gcr",
    user: "oauth2accesstoken",
    token,
    env: { GOOGLE_CLOUD_PROJECT: "cch-test-project", GCE_METADATA_HOST: md.host },
    settings: { alias: "us-docker.pkg.dev" },
    handToken: async () => token,
    calls: () => md.tokenCalls,
    stop: () => md.stop(),
  };
}

function acr(): Cloud {
  const w = startWorld();
  const exp = Math.floor(Date.now() / 1000) + 2 * 3600;
  const token = `${b64({ alg: "none" })}.${b64({ exp })}.x`;
  w.acr.fixedRefreshToken = token;
  return {
    helper: "acr",
    user: "00000000-0000-0000-0000-000000000000",
    token,
    env: servicePrincipalEnv(w),
    settings: { alias: ACR_LOGIN, endpoint: w.acr.url },
    tokenExpiresAt: exp * 1000,
    handToken: async () => token,
    calls: () => w.acr.calls.exchange ?? 0,
    stop: () => w.stop(),
  };
}

function oci(dir: string): Cloud {
  const key = makeApiKey(join(dir, "oci-keys"));
  const ocir = startFakeOcir();
  ocir.trust(key.keyId, key.publicKey);
  const token = `ocir-e2e-${randomBytes(12).toString("hex")}`;
  ocir.fixedToken = token;
  const config = join(dir, "oci-config");
  writeOciConfig(config, { DEFAULT: apiKeyProfile(key) });
  return {
    helper: "oci",
    user: "BEARER_TOKEN",
    token,
    env: { OCI_CONFIG_FILE: config, CCH_OCI_METADATA_URL: "http://127.0.0.1:9/opc/v2/" },
    settings: { alias: "iad.ocir.io", tokenEndpoint: ocir.url },
    handToken: async () => token,
    calls: () => ocir.issued.length,
    stop: () => ocir.stop(),
  };
}

/**
 * Each cloud with its own registry, holding `team/app:v1` (one small layer).
 * The registry also knows one user with a real password (`login`), as a
 * registry behind a mirror or proxy might.
 */
export interface CloudRegistries {
  clouds: Map<HelperName, Cloud & { registry: LocalRegistry; host: string; login: RegistryUser }>;
  /** The credential the helpers' store holds for `host`, as the store file says. */
  saved(host: string): { serverURL: string; username: string; secret: string; expiresAt?: number } | undefined;
  /**
   * One engine × helper cell: the helper's cloud, registry host and image,
   * with nothing saved or cached for the host (an earlier `docker build`
   * asked every helper).
   */
  cell(helper: HelperName): Promise<{ c: Cloud & { host: string; login: RegistryUser }; host: string; image: string }>;
  /** Rewrites the saved entry's expiry, as if it had been saved long ago. */
  expireSaved(host: string): void;
  stop(): Promise<void>;
}

/**
 * Starts the four fakes and four registries, writes the configuration file
 * (an alias per registry) and credHelpers into docker's config.json and the
 * containers auth file, and adds every cloud's environment to `t.env`.
 */
export async function startCloudRegistries(t: TestEnv): Promise<CloudRegistries> {
  const clouds = startClouds(join(t.dir, "clouds"));
  const started = await Promise.all(
    clouds.map(async (c) => {
      const user = { username: c.user, password: c.token };
      const login = { username: `alice-${c.helper}`, password: `pw-${randomBytes(12).toString("hex")}` };
      const registry = await startRegistry([user, login]);
      await registry.pushImage("team/app", "v1", user, { "hello.txt": `hello from ${c.helper}\n` });
      return { ...c, registry, host: registry.host, login };
    }),
  );
  const byHelper = new Map(started.map((c) => [c.helper, c]));
  t.writeConfig({ registries: Object.fromEntries(started.map((c) => [c.host, c.settings])) });
  const helpers = JSON.stringify({ credHelpers: Object.fromEntries(started.map((c) => [c.host, c.helper])) });
  writeFileSync(join(t.dockerConfig, "config.json"), helpers);
  writeFileSync(t.env.REGISTRY_AUTH_FILE!, helpers);
  for (const c of started) Object.assign(t.env, c.env);
  const storeFile = join(t.configDir, "credentials.json");
  const readStore = (): {
    version: number;
    credentials: Record<string, { serverURL: string; username: string; secret: string; expiresAt?: number }>;
  } => {
    try {
      return JSON.parse(readFileSync(storeFile, "utf8"));
    } catch {
      return { version: 1, credentials: {} };
    }
  };
  return {
    clouds: byHelper,
    saved: (host) => readStore().credentials[host],
    async cell(helper) {
      const c = byHelper.get(helper)!;
      await runHelper(helper, ["erase"], c.host, t.env);
      return { c, host: c.host, image: `${c.host}/team/app:v1` };
    },
    expireSaved(host) {
      const file = readStore();
      const entry = file.credentials[host];
      if (!entry) throw new Error(`nothing saved for ${host}`);
      entry.expiresAt = Date.now() - 1000;
      writeFileSync(storeFile, JSON.stringify(file, null, 2) + "\n", { mode: 0o600 });
    },
    async stop() {
      await Promise.all(started.map(async (c) => Promise.all([c.registry.stop(), c.stop()])));
    },
  };
}
