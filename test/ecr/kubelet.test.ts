// docker-credential-ecr-login as a kubelet credential provider with pod
// identity (KEP-4412), the built binary run exactly as kubelet runs it: the
// pod's service account token goes to a fake STS (AssumeRoleWithWebIdentity,
// which accepts only the tokens it was told about, each for one role), and
// GetAuthorizationToken is signed with that role's session.

import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { DIST, runCommand } from "../support/env.ts";
import { decodeStrict, kubeletMatches, runAsKubelet, serviceAccountToken } from "../support/kubelet.ts";

import { ENV_KEY_ID, HOST, REGION, cachedEntries, useFakeAws } from "./support.ts";

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
  });

  test("two service accounts with different roles get different credentials, one exchange each", async () => {
    const t = env();
    fake.webIdentities = new Map([
      [tokenA, ROLE_A],
      [tokenB, ROLE_B],
    ]);
    const a = await runAsKubelet(BIN(), t.env, request(tokenA, { [ANNOTATION]: ROLE_A }));
    const b = await runAsKubelet(BIN(), t.env, request(tokenB, { [ANNOTATION]: ROLE_B }));
    expect(passwordOf(a.stdout)).not.toBe(passwordOf(b.stdout));
    expect(fake.count("sts")).toBe(2);
    expect(fake.count("ecr")).toBe(2);
    expect(fake.calls.filter((c) => c.service === "ecr").map((c) => c.accessKeyId)).toEqual(["ASIATEAMAPULL", "ASIATEAMBPULL"]);
    // Each cached under its own service account; neither under the node's identity.
    const keys = cachedEntries(t).map((e) => e.key);
    expect(keys).toHaveLength(2);
    for (const k of keys) expect(k).not.toMatch(/\|env(\||$)/);
  });

  test("the same service account twice (its token rotated) is one exchange: served from the cache", async () => {
    const t = env();
    const rotated = saToken("team-a", "puller", "uid-a", "rotated");
    fake.webIdentities = new Map([
      [tokenA, ROLE_A],
      [rotated, ROLE_A],
    ]);
    const first = await runAsKubelet(BIN(), t.env, request(tokenA, { [ANNOTATION]: ROLE_A }));
    const second = await runAsKubelet(BIN(), t.env, request(rotated, { [ANNOTATION]: ROLE_A }, `${HOST}/other/image`));
    expect(passwordOf(second.stdout)).toBe(passwordOf(first.stdout));
    expect(fake.count("sts")).toBe(1);
    expect(fake.count("ecr")).toBe(1);
  });

  test("the pod's token is never returned as the password, even when the cloud hands it back", async () => {
    const t = env();
    fake.webIdentities = new Map([[tokenA, ROLE_A]]);
    fake.fixedPassword = tokenA;
    const r = await runAsKubelet(BIN(), t.env, request(tokenA, { [ANNOTATION]: ROLE_A }));
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("refusing to return the service account token");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).not.toContain(tokenA);
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

  test("configure kubelet --service-account-tokens asks for the STS audience, the role annotation optional", async () => {
    const t = env();
    const r = await runCommand(
      [join(DIST, "docker-credential-ecr-login"), "configure", "kubelet", "--service-account-tokens", "--format", "json"],
      "",
      t.env,
    );
    expect(r.exitCode).toBe(0);
    const entry = JSON.parse(r.stdout).providers[0];
    expect(entry.name).toBe("docker-credential-ecr-login");
    expect(entry.tokenAttributes).toEqual({
      serviceAccountTokenAudience: "sts.amazonaws.com",
      cacheType: "ServiceAccount",
      requireServiceAccount: false,
      optionalServiceAccountAnnotationKeys: [ANNOTATION],
    });
  });
});
