// Shared by the ECR subprocess tests: an isolated environment whose AWS SDK
// reaches only the fake, and a way to age cached tokens without waiting.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { TokenCache } from "../../src/cache.ts";
import { afterAll, afterEach, beforeAll } from "bun:test";
import { makeTestEnv, requireDist, runHelper, type RunResult, type TestEnv } from "../support/env.ts";
import { startFakeAws, type FakeAws } from "./fake-aws.ts";

export const ACCOUNT = "123456789012";
export const REGION = "eu-west-1";
export const HOST = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`;
export const ENV_KEY_ID = "AKIDENVTESTKEY";
export const NOT_FOUND = "credentials not found in native keychain\n";

/**
 * A test environment where the SDK can only reach the fake: endpoints point
 * at it, instance metadata is off, shared config files live in the temp dir.
 * `staticKeys: false` leaves identity to the shared files (profiles).
 */
export function makeEcrEnv(fake: FakeAws, options: { staticKeys?: boolean; extra?: Record<string, string> } = {}): TestEnv {
  const t = makeTestEnv();
  const awsConfig = join(t.dir, "aws-config");
  const awsCredentials = join(t.dir, "aws-credentials");
  writeFileSync(awsConfig, "");
  writeFileSync(awsCredentials, "");
  Object.assign(t.env, {
    AWS_ENDPOINT_URL_ECR: fake.url,
    AWS_ENDPOINT_URL_ECR_PUBLIC: fake.url,
    AWS_ENDPOINT_URL_STS: fake.url,
    AWS_CONFIG_FILE: awsConfig,
    AWS_SHARED_CREDENTIALS_FILE: awsCredentials,
    AWS_EC2_METADATA_DISABLED: "true",
    CCH_TIMEOUT: "20",
    ...(options.staticKeys === false
      ? {}
      : { AWS_ACCESS_KEY_ID: ENV_KEY_ID, AWS_SECRET_ACCESS_KEY: "test-secret-access-key-not-real" }),
    ...options.extra,
  });
  return t;
}

export function get(t: TestEnv, serverUrl: string, env: Record<string, string> = {}): Promise<RunResult> {
  return runHelper("ecr-login", ["get"], serverUrl, { ...t.env, ...env });
}

/** The Secret of a successful `get`, failing the test with the helper's output otherwise. */
export function secretOf(r: RunResult): string {
  if (r.exitCode !== 0) throw new Error(`get failed (${r.exitCode}): ${r.stdout}${r.stderr}`);
  const out = JSON.parse(r.stdout) as { Username: string; Secret: string };
  if (out.Username !== "AWS") throw new Error(`unexpected username ${out.Username}`);
  return out.Secret;
}

/** Rewrites every cached token's times, as if it had been fetched long ago. */
export function ageCache(t: TestEnv, times: { issuedAgoMs: number; expiresInMs: number }): number {
  const cache = new TokenCache(t.cacheDir);
  const now = Date.now();
  const entries = cache.entries();
  for (const e of entries) cache.write({ ...e, issuedAt: now - times.issuedAgoMs, expiresAt: now + times.expiresInMs });
  return entries.length;
}

export function cachedEntries(t: TestEnv) {
  return new TokenCache(t.cacheDir).entries();
}

/**
 * One fake AWS for a test file, reset after each test, stopped after the
 * file; `env(options)` makes a test environment pointed at it that is
 * cleaned up after the test.
 */
export function useFakeAws(defaults: Parameters<typeof makeEcrEnv>[1] = {}) {
  const fake = startFakeAws();
  const envs: TestEnv[] = [];
  beforeAll(() => requireDist());
  afterEach(() => {
    fake.reset();
    for (const t of envs.splice(0)) t.cleanup();
  });
  afterAll(() => fake.stop());
  const env = (options: Parameters<typeof makeEcrEnv>[1] = {}): TestEnv => {
    const t = makeEcrEnv(fake, { ...defaults, ...options, extra: { ...defaults.extra, ...options.extra } });
    envs.push(t);
    return t;
  };
  return { fake, env };
}
