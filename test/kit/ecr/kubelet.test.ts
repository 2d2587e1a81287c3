// docker-credential-ecr-login as a kubelet credential provider with pod
// identity (KEP-4412), beyond the kit's shared kubelet scenarios
// (test/kit/kubelet.test.ts: response shape, per-service-account caching, the
// pod's token never returned): the built binary run exactly as kubelet runs
// it, the pod's service account token going to a fake STS
// (AssumeRoleWithWebIdentity, which accepts only the tokens it was told about,
// each for one role), GetAuthorizationToken signed with that role's session.

import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { DIST } from "../../support/env.ts";
import { decodeStrict, kubeletMatches, runAsKubelet, serviceAccountToken } from "../../support/kubelet.ts";

import { ENV_KEY_ID, HOST, REGION, cachedEntries, useFakeAws } from "../../ecr/support.ts";

const V1 = "credentialprovider.kubelet.k8s.io/v1";
const ANNOTATION = "eks.amazonaws.com/ecr-role-arn";
const ROLE_A = "arn:aws:iam::123456789012:role/team-a-pull";
const ROLE_B = "arn:aws:iam::123456789012:role/team-b-pull";
const saToken = (namespace: string, name: string, uid: string, nonce: string) =>
  serviceAccountToken(namespace, name, uid, { nonce, audience: "sts.amazonaws.com" });
const IMAGE = `${HOST}/team/app:v1`;
const BIN = () => [join(DIST, "docker-credential-ecr-login"), "get-credentials"];

const request = (token: string | null, annotations: Record<string, string> = {}, image = IMAGE) => ({
  kind: "CredentialProviderRequest",
  apiVersion: V1,
  image,
  ...(token === null ? {} : { serviceAccountToken: token, serviceAccountAnnotations: annotations }),
});

// Node identity present (static keys) in every test, so its absence from the calls shows it was not used.
const aws = useFakeAws();
const fake = aws.fake;
const env = (extra: Record<string, string> = {}) => aws.env({ extra });
const passwordOf = (stdout: string) => decodeStrict(stdout, V1).auth[HOST]!.password;

describe("kubelet service-account-token mode", () => {
  const tokenA = saToken("team-a", "puller", "uid-a", "1");
  const tokenB = saToken("team-b", "puller", "uid-b", "2");

  test("round trip: the pod's token is exchanged for the annotated role, the answer passes kubelet's strict decoding", async () => {
    const t = env();
    fake.webIdentities = new Map([[tokenA, ROLE_A]]);
    const r = await runAsKubelet(BIN(), t.env, request(tokenA, { [ANNOTATION]: ROLE_A }));
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    const d = decodeStrict(r.stdout, V1);
    expect(d.cacheKeyType).toBe("Registry");
    expect(Object.keys(d.auth)).toEqual([HOST]);
    expect(kubeletMatches(HOST, IMAGE)).toBe(true);
    expect(d.auth[HOST]!.username).toBe("AWS");
    // Half of the 12 h token life at most, never the whole of it.
    expect(d.cacheDurationMs!).toBeGreaterThan(0);
    expect(d.cacheDurationMs!).toBeLessThanOrEqual(6 * 3600_000);
    expect(fake.calls.map((c) => [c.service, c.webIdentityToken ?? null, c.roleArn ?? null, c.accessKeyId])).toEqual([
      ["sts", tokenA, ROLE_A, ""],
      ["ecr", null, null, "ASIATEAMAPULL"],
    ]);
    expect(fake.calls[1]!.region).toBe(REGION);
    expect(d.auth[HOST]!.password).toBe(fake.calls[1]!.password!);
    expect(d.auth[HOST]!.password).not.toBe(tokenA);
    // Cached under the pod's service account, not under the node's identity.
    const keys = cachedEntries(t).map((e) => e.key);
    expect(keys).toHaveLength(1);
    for (const k of keys) expect(k).not.toMatch(/\|env(\||$)/);
  });

  test("a pod without a role (no annotation, no AWS_ECR_ROLE_ARN) is served with the node's identity and shares the node's cache entry; annotated pods keep their own", async () => {
    const t = env();
    fake.webIdentities = new Map([
      [tokenA, ROLE_A],
      [tokenB, ROLE_B],
    ]);
    const node = await runAsKubelet(BIN(), t.env, request(null));
    expect(node.stderr).toBe("");
    const nodePassword = passwordOf(node.stdout);
    // Two role-less pods: the node's token, from the node's cache entry, no new call and no STS exchange.
    for (const token of [tokenA, tokenB]) {
      const roleless = await runAsKubelet(BIN(), t.env, request(token, {}));
      expect(roleless.stderr).toBe("");
      expect(passwordOf(roleless.stdout)).toBe(nodePassword);
    }
    expect(fake.calls.map((c) => [c.service, c.accessKeyId])).toEqual([["ecr", ENV_KEY_ID]]);
    expect(cachedEntries(t)).toHaveLength(1);

    // An annotated pod has its own role and its own entry.
    const annotated = await runAsKubelet(BIN(), t.env, request(tokenA, { [ANNOTATION]: ROLE_A }));
    expect(annotated.stderr).toBe("");
    expect(passwordOf(annotated.stdout)).not.toBe(nodePassword);
    expect(fake.calls.slice(1).map((c) => c.roleArn ?? c.accessKeyId)).toEqual([ROLE_A, "ASIATEAMAPULL"]);
    expect(cachedEntries(t)).toHaveLength(2);

    // AWS_ECR_ROLE_ARN gives every role-less service account that role.
    const fromEnv = await runAsKubelet(BIN(), { ...t.env, AWS_ECR_ROLE_ARN: ROLE_B }, request(tokenB, {}));
    expect(fromEnv.stderr).toBe("");
    passwordOf(fromEnv.stdout);
    expect(fake.calls.slice(3).map((c) => c.roleArn ?? c.accessKeyId)).toEqual([ROLE_B, "ASIATEAMBPULL"]);
  });

  test("a token STS does not trust for that role is refused: one line naming the role, no token", async () => {
    const t = env();
    fake.webIdentities = new Map([[tokenA, ROLE_A]]);
    const r = await runAsKubelet(BIN(), t.env, request(tokenA, { [ANNOTATION]: ROLE_B }));
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toStartWith("docker-credential-ecr-login: AWS ECR: could not get credentials for ECR account 123456789012");
    expect(r.stderr).toContain(ROLE_B);
    expect(r.stderr).toContain("AccessDenied");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).not.toContain(tokenA);
    expect(fake.count("ecr")).toBe(0);
  });

  test("without a token, kubelet mode uses the node's identity", async () => {
    const t = env();
    const r = await runAsKubelet(BIN(), t.env, request(null));
    expect(r.stderr).toBe("");
    passwordOf(r.stdout);
    expect(fake.calls.map((c) => [c.service, c.accessKeyId])).toEqual([["ecr", ENV_KEY_ID]]);
  });
});
