// ECR faults beyond the kit's shared ones (test/kit/faults.test.ts covers
// 500, slow, silent, malformed and expired for every cloud): the other ways a
// GetAuthorizationToken answer can be unusable, the retry count and the
// target named in the line, an API that refuses connections, and faults of
// STS in kubelet pod mode. Each `get` ends with one clear line, or with a
// cached token that is still valid; never an expired token.

import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { DIST, runHelper, type TestEnv } from "../../support/env.ts";
import { decodeStrict, runAsKubelet } from "../../support/kubelet.ts";
import { type FakeAws, type Mode } from "../../ecr/fake-aws.ts";
import { ACCOUNT, HOST, REGION, ageCache, cachedEntries, useFakeAws, secretOf } from "../../ecr/support.ts";

const HOUR = 3600_000;
/** Kill a `get` that outlives its 2 s deadline by this much: a hang would show up as a kill (exit 137). */
const HARNESS_KILL_MS = 15_000;
const TARGET = `ECR account ${ACCOUNT} in ${REGION}`;

const { fake, env } = useFakeAws({ extra: { CCH_TIMEOUT: "2" } });
const get = (t: TestEnv, extra: Record<string, string> = {}) =>
  runHelper("ecr-login", ["get"], HOST, { ...t.env, ...extra }, { timeoutMs: HARNESS_KILL_MS });

interface Fault {
  name: string;
  apply(f: FakeAws): void;
  /** What the one-line error must say. */
  says: RegExp;
}

const mode =
  (m: Mode) =>
  (f: FakeAws): void => {
    f.mode = m;
  };

const FAULTS: Fault[] = [
  { name: "HTTP 500 on every attempt", apply: mode("error500"), says: /failed after 3 attempts: HTTP 500 ServerException/ },
  { name: "no authorizationData", apply: mode("noAuthData"), says: /answered without an authorization token/ },
  { name: "a token that is not base64", apply: mode("notBase64"), says: /authorization token that is not base64/ },
  {
    name: "a token without ':'",
    apply: mode("noColon"),
    says: /authorization token that has no ':' between user name and password/,
  },
  { name: "a token without expiry", apply: mode("noExpiry"), says: /answered with a token without an expiry/ },
];

describe("every fault on a cold cache: a one-line error naming it, exit 1, nothing cached", () => {
  for (const fault of FAULTS) {
    test(
      fault.name,
      async () => {
        const t = env();
        fault.apply(fake);
        const r = await get(t);
        expect(r.exitCode).toBe(1);
        expect(r.stdout).toStartWith("AWS ECR: ");
        expect(r.stdout).toMatch(fault.says);
        expect(r.stdout.endsWith("\n") && !r.stdout.trimEnd().includes("\n")).toBe(true);
        expect(r.stdout).toContain(TARGET);
        expect(r.stderr).toBe("");
        expect(fake.count("ecr")).toBeGreaterThanOrEqual(1);
        // Nothing a later get could mistake for a token.
        expect(cachedEntries(t)).toEqual([]);
      },
      HARNESS_KILL_MS + 5_000,
    );
  }

  test("an API that refuses connections", async () => {
    const t = env();
    const r = await get(t, { AWS_ENDPOINT_URL_ECR: "http://127.0.0.1:9" });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe(`AWS ECR: could not reach the ECR API for ${TARGET} after 3 attempts: ECONNREFUSED\n`);
  });
});

test(
  "every fault during a refresh: the cached token, still valid, is served; once it has expired, an error and never it",
  async () => {
    const t = env();
    const cached = secretOf(await get(t));
    for (const fault of FAULTS) {
      // Past half of its life (time to refresh) with two hours left.
      ageCache(t, { issuedAgoMs: 10 * HOUR, expiresInMs: 2 * HOUR });
      fake.reset();
      fault.apply(fake);
      const r = await get(t);
      expect({ fault: fault.name, exitCode: r.exitCode }).toEqual({ fault: fault.name, exitCode: 0 });
      expect(secretOf(r)).toBe(cached);
      expect(fake.count("ecr")).toBeGreaterThanOrEqual(1);
    }
    // Expired in the cache and refused by the API: the old token is not served.
    ageCache(t, { issuedAgoMs: 13 * HOUR, expiresInMs: -1000 });
    fake.reset();
    fake.lifetimeSeconds = -60;
    const r = await get(t);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain("already expired");
    expect(r.stdout).not.toContain(cached);
  },
  FAULTS.length * HARNESS_KILL_MS,
);

describe("faults in kubelet pod mode: one line on stderr, nothing on stdout", () => {
  const token = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6YTpwIn0.pod-token-for-faults";
  const request = {
    kind: "CredentialProviderRequest",
    apiVersion: "credentialprovider.kubelet.k8s.io/v1",
    image: `${HOST}/app`,
    serviceAccountToken: token,
    serviceAccountAnnotations: { "eks.amazonaws.com/ecr-role-arn": "arn:aws:iam::123456789012:role/pod" },
  };
  const run = (t: TestEnv) => runAsKubelet([join(DIST, "docker-credential-ecr-login"), "get-credentials"], t.env, request);

  const podFaults: Array<[string, (f: FakeAws) => void, RegExp]> = [
    ["STS fails with 500", (f) => void (f.stsMode = "error500"), /STS|getting credentials/],
    ["STS does not answer", (f) => void (f.stsMode = "hang"), /deadline reached|did not answer in time/],
    ["ECR answers a token that has already expired", (f) => void (f.lifetimeSeconds = -60), /already expired/],
  ];
  test.each(podFaults)(
    "%s",
    async (_, apply, says) => {
      const t = env();
      apply(fake);
      const r = await run(t);
      expect(r.exitCode).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toStartWith("docker-credential-ecr-login: AWS ECR: ");
      expect(r.stderr).toMatch(says);
      expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(r.stderr).not.toContain(token);
    },
    HARNESS_KILL_MS + 5_000,
  );

  test("after the faults clear, the same request succeeds", async () => {
    const t = env();
    const r = await run(t);
    expect(r.stderr).toBe("");
    expect(decodeStrict(r.stdout, request.apiVersion).auth[HOST]!.username).toBe("AWS");
  });
});
