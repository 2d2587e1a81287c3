// docker-credential-ecr-login as docker runs it (the built binary, one process
// per call) against the local fake AWS APIs.

import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runHelper, type TestEnv } from "../support/env.ts";

import { ACCOUNT, ENV_KEY_ID, HOST, NOT_FOUND, REGION, ageCache, cachedEntries, get, useFakeAws, secretOf } from "./support.ts";

const HOUR = 3600_000;
const { fake, env } = useFakeAws();

describe("private ECR", () => {
  test("a token round trip: signed for the host's region, split on the first ':'", async () => {
    const t = env();
    const r = await get(t, `https://${HOST}`);
    expect(r.stderr).toBe("");
    const out = JSON.parse(r.stdout);
    expect(out.ServerURL).toBe(`https://${HOST}`);
    expect(out.Username).toBe("AWS");
    // The fake's passwords contain ':' themselves.
    expect(out.Secret).toBe(`pw:ecr:${REGION}:${ENV_KEY_ID}:1`);
    expect(fake.calls).toEqual([{ service: "ecr", region: REGION, accessKeyId: ENV_KEY_ID, password: out.Secret }]);
  });

  test("with the debug log on, stderr says where the token came from and shows no secret", async () => {
    const t = env({ extra: { CCH_DEBUG: "true" } });
    const fetched = await get(t, HOST);
    const secret = secretOf(fetched);
    const cached = await get(t, HOST);
    expect(secretOf(cached)).toBe(secret);
    expect(fetched.stderr).toContain("environment keys (AWS_ACCESS_KEY_ID …TKEY)");
    expect(cached.stderr).toContain("cached token");
    for (const text of [fetched.stderr, cached.stderr]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain("test-secret-access-key-not-real");
      expect(text).not.toContain(ENV_KEY_ID);
    }
  });

  test("the cache: a second get makes no call; the key names the access key id by a hash, so another key pair is another entry", async () => {
    const t = env();
    const first = secretOf(await get(t, HOST));
    const second = secretOf(await get(t, `${HOST}/team/app`));
    expect(second).toBe(first);
    expect(fake.count()).toBe(1);
    const entries = cachedEntries(t);
    expect(entries).toHaveLength(1);
    expect(entries[0]!.key).not.toContain(ENV_KEY_ID);
    // Another key pair may be another principal (another account, another CI job): never the first one's token.
    const other = secretOf(await get(t, HOST, { AWS_ACCESS_KEY_ID: "AKIDOTHERKEY" }));
    expect(other).not.toBe(first);
    expect(fake.calls.map((c) => c.accessKeyId)).toEqual([ENV_KEY_ID, "AKIDOTHERKEY"]);
    expect(secretOf(await get(t, HOST))).toBe(first);
    expect(secretOf(await get(t, HOST, { AWS_ACCESS_KEY_ID: "AKIDOTHERKEY" }))).toBe(other);
    expect(fake.count()).toBe(2);
  });

  // Concurrent gets on a cold cache: herd.test.ts.

  test("spoofed and foreign hosts get not-found and cause no call", async () => {
    const t = env();
    const spoofed = [
      `${HOST}.evil.com`,
      `https://${HOST}.evil.com/v2/`,
      `x${HOST}`,
      `evil.com/${HOST}`,
      `https://${HOST}@evil.com`,
      `https://user@${HOST}`,
      `1${HOST}`,
      `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com.cn.evil.com`,
      `${ACCOUNT}.dkr.ecr.${REGION}.evil.com`,
      `${ACCOUNT}.dkr.ecrx.${REGION}.amazonaws.com`,
      "public.ecr.aws.evil.com",
      "evilpublic.ecr.aws",
      "docker.io",
      "gcr.io",
    ];
    for (const host of spoofed) {
      const r = await get(t, host);
      expect({ host, stdout: r.stdout, exitCode: r.exitCode }).toEqual({ host, stdout: NOT_FOUND, exitCode: 1 });
    }
    expect(fake.count()).toBe(0);
  }, 60_000);

  test("an expired cache entry is refreshed", async () => {
    const t = env();
    const old = secretOf(await get(t, HOST));
    expect(ageCache(t, { issuedAgoMs: 13 * HOUR, expiresInMs: -HOUR })).toBe(1);
    const fresh = secretOf(await get(t, HOST));
    expect(fresh).not.toBe(old);
    expect(fake.count()).toBe(2);
  });

  test("a failed refresh serves a token that is still valid", async () => {
    const t = env();
    const old = secretOf(await get(t, HOST));
    // Past half of its life (time to refresh) but two hours left.
    ageCache(t, { issuedAgoMs: 10 * HOUR, expiresInMs: 2 * HOUR });
    fake.mode = "error500";
    expect(secretOf(await get(t, HOST))).toBe(old);
    // The SDK retried the 500s before giving up.
    expect(fake.count()).toBeGreaterThan(2);
  });

  test("a failed refresh with an expired token is an error that says what failed", async () => {
    const t = env();
    const old = secretOf(await get(t, HOST));
    ageCache(t, { issuedAgoMs: 13 * HOUR, expiresInMs: -60_000 });
    fake.mode = "error500";
    const r = await get(t, HOST);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain("AWS ECR:");
    expect(r.stdout).toContain(`ECR account ${ACCOUNT} in ${REGION}`);
    expect(r.stdout).toContain("HTTP 500");
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
    expect(r.stdout + r.stderr).not.toContain(old);
  });

  test("a refused call names the identity source and exits 1", async () => {
    const t = env();
    fake.mode = "denied";
    const r = await get(t, HOST);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(
      /^AWS ECR: ECR account 123456789012 in eu-west-1 refused the credentials from environment keys \(AWS_ACCESS_KEY_ID …TKEY\)/,
    );
    expect(r.stdout).toContain("AccessDeniedException");
    expect(r.stdout).not.toContain("test-secret-access-key");
  });

  test("no AWS identity at all: a one-line reason, no call", async () => {
    const t = env({ staticKeys: false });
    const r = await get(t, HOST);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toStartWith("AWS ECR: no AWS credentials found: set AWS_ACCESS_KEY_ID");
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
    expect(fake.count()).toBe(0);
  });

  test("a hanging API ends at the configured deadline with a clear error", async () => {
    const t = env({ extra: { CCH_TIMEOUT: "2" } });
    fake.mode = "hang";
    const r = await runHelper("ecr-login", ["get"], HOST, t.env, { timeoutMs: 30_000 });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/^AWS ECR: .*(within 2s|deadline)/);
    expect(r.stdout).toContain("deadline");
    expect(fake.count()).toBeGreaterThanOrEqual(1);
  }, 40_000);

  test("transient failures are retried within the deadline: two 500s, then a token", async () => {
    const t = env();
    fake.failNext = 2;
    secretOf(await get(t, HOST));
    expect(fake.count()).toBe(3);
  });

  test("a slow attempt is abandoned and retried within the deadline", async () => {
    // CCH_TIMEOUT=6 gives each of 3 attempts 2 s; the first answer would take 4 s.
    const t = env({ extra: { CCH_TIMEOUT: "6" } });
    fake.delayMs = 4000;
    fake.delayNext = 1;
    const secret = secretOf(await get(t, HOST));
    expect(fake.count()).toBe(2);
    expect(secret).toBe(fake.calls[1]!.password!);
  }, 30_000);

  test("a slow but timely answer is awaited", async () => {
    const t = env();
    fake.delayMs = 1500;
    secretOf(await get(t, HOST));
    expect(fake.count()).toBe(1);
  }, 30_000);

  test("FIPS and dual-stack hosts: region from the host, signed for ecr", async () => {
    const t = env();
    const fips = `${ACCOUNT}.dkr.ecr-fips.us-gov-west-1.amazonaws.com`;
    const dual = `${ACCOUNT}.dkr-ecr.ap-southeast-2.on.aws`;
    secretOf(await get(t, fips));
    secretOf(await get(t, dual));
    expect(fake.calls.map((c) => [c.service, c.region])).toEqual([
      ["ecr", "us-gov-west-1"],
      ["ecr", "ap-southeast-2"],
    ]);
  });
});

describe("identities", () => {
  const writeProfiles = (t: TestEnv) => {
    writeFileSync(t.env.AWS_CONFIG_FILE!, "[profile alpha]\nregion = us-east-1\n\n[profile beta]\nregion = us-east-1\n");
    writeFileSync(
      t.env.AWS_SHARED_CREDENTIALS_FILE!,
      [
        "[alpha]",
        "aws_access_key_id = AKIDALPHA",
        "aws_secret_access_key = alpha-secret-not-real",
        "",
        "[beta]",
        "aws_access_key_id = AKIDBETA",
        "aws_secret_access_key = beta-secret-not-real",
        "",
      ].join("\n"),
    );
  };

  test("a profile per registry, from the configuration file", async () => {
    const t = env({ staticKeys: false });
    writeProfiles(t);
    const a = `111111111111.dkr.ecr.${REGION}.amazonaws.com`;
    const b = `222222222222.dkr.ecr.${REGION}.amazonaws.com`;
    t.writeConfig({ registries: { [a]: { profile: "alpha" }, [b]: { profile: "beta" } } });
    const secretA = secretOf(await get(t, a));
    const secretB = secretOf(await get(t, b));
    expect(secretA).not.toBe(secretB);
    expect(fake.calls.map((c) => c.accessKeyId)).toEqual(["AKIDALPHA", "AKIDBETA"]);
    const keys = cachedEntries(t).map((e) => e.key);
    expect(keys).toHaveLength(2);
    expect(keys.some((k) => k.includes("profile:alpha@"))).toBe(true);
    expect(keys.some((k) => k.includes("profile:beta@"))).toBe(true);
    // Both cached now.
    expect(secretOf(await get(t, a))).toBe(secretA);
    expect(secretOf(await get(t, b))).toBe(secretB);
    expect(fake.count()).toBe(2);
  });

  test("one profile name in two config files: two principals, two cache entries", async () => {
    const t = env({ staticKeys: false });
    const one = join(t.dir, "config-one");
    const two = join(t.dir, "config-two");
    writeFileSync(one, "[profile p]\naws_access_key_id = AKIDCONFIGONE\naws_secret_access_key = one-secret-not-real\n");
    writeFileSync(two, "[profile p]\naws_access_key_id = AKIDCONFIGTWO\naws_secret_access_key = two-secret-not-real\n");
    const a = secretOf(await get(t, HOST, { AWS_PROFILE: "p", AWS_CONFIG_FILE: one }));
    const b = secretOf(await get(t, HOST, { AWS_PROFILE: "p", AWS_CONFIG_FILE: two }));
    expect(a).not.toBe(b);
    expect(secretOf(await get(t, HOST, { AWS_PROFILE: "p", AWS_CONFIG_FILE: one }))).toBe(a);
    expect(fake.calls.map((c) => c.accessKeyId)).toEqual(["AKIDCONFIGONE", "AKIDCONFIGTWO"]);
    expect(cachedEntries(t)).toHaveLength(2);
  });

  test("AWS_PROFILE separates cache entries for one host", async () => {
    const t = env({ staticKeys: false });
    writeProfiles(t);
    const alpha = secretOf(await get(t, HOST, { AWS_PROFILE: "alpha" }));
    const beta = secretOf(await get(t, HOST, { AWS_PROFILE: "beta" }));
    expect(alpha).not.toBe(beta);
    expect(secretOf(await get(t, HOST, { AWS_PROFILE: "alpha" }))).toBe(alpha);
    expect(fake.calls.map((c) => c.accessKeyId)).toEqual(["AKIDALPHA", "AKIDBETA"]);
  });

  test("a role to assume per registry, through STS in the registry's region", async () => {
    const t = env();
    t.writeConfig({ registries: { [HOST]: { roleArn: `arn:aws:iam::${ACCOUNT}:role/puller` } } });
    secretOf(await get(t, HOST));
    expect(fake.calls.map((c) => [c.service, c.region, c.accessKeyId])).toEqual([
      ["sts", REGION, ENV_KEY_ID],
      ["ecr", REGION, "ASIAPULLER"],
    ]);
    expect(cachedEntries(t)[0]!.key).toContain(`>role:arn:aws:iam::${ACCOUNT}:role/puller`);
  });

  test("a refused role assumption says which role and which base identity", async () => {
    const t = env();
    t.writeConfig({ registries: { [HOST]: { roleArn: `arn:aws:iam::${ACCOUNT}:role/puller` } } });
    fake.mode = "denied";
    const r = await get(t, HOST);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toStartWith(`AWS ECR: could not get credentials for ECR account ${ACCOUNT} in ${REGION}: STS refused`);
    expect(r.stdout).toContain(`role arn:aws:iam::${ACCOUNT}:role/puller (from the configuration file) assumed with environment keys`);
    expect(r.stdout).toContain("AccessDenied");
    expect(fake.calls.map((c) => c.service)).toEqual(["sts"]);
  });

  test("an alias (PrivateLink or custom name) gets the token of the ECR registry it names", async () => {
    const t = env();
    t.writeConfig({ registries: { "ecr.internal.example:5000": { alias: HOST, profile: "alpha" } } });
    writeProfiles(t);
    const r = await get(t, "ecr.internal.example:5000");
    expect(r.stderr).toBe("");
    expect(secretOf(r)).toContain("AKIDALPHA");
    expect(fake.calls.map((c) => [c.service, c.region])).toEqual([["ecr", REGION]]);
  });

  test("a bad setting is reported, not guessed at", async () => {
    const t = env();
    t.writeConfig({ registries: { [HOST]: { roleArn: "puller" } } });
    const r = await get(t, HOST);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain(`"roleArn" in the configuration file must look like`);
    expect(fake.count()).toBe(0);
  });
});

describe("ECR Public", () => {
  for (const host of ["public.ecr.aws", "ecr-public.aws.com"]) {
    test(`${host}: a token from ecr-public in us-east-1`, async () => {
      const t = env();
      const secret = secretOf(await get(t, `https://${host}/`));
      expect(secret).toBe(`pw:ecr-public:us-east-1:${ENV_KEY_ID}:1`);
      expect(fake.calls.map((c) => [c.service, c.region])).toEqual([["ecr-public", "us-east-1"]]);
    });
  }

  test("a failure is not-found, so the client pulls anonymously", async () => {
    const t = env();
    fake.mode = "error500";
    const r = await get(t, "public.ecr.aws");
    expect(r.stdout).toBe(NOT_FOUND);
    expect(r.exitCode).toBe(1);
    const none = env({ staticKeys: false });
    const anonymous = await get(none, "public.ecr.aws");
    expect(anonymous.stdout).toBe(NOT_FOUND);
  });
});

describe("upstream environment variables", () => {
  test("AWS_ECR_DISABLE_CACHE: any non-empty value (even false) calls every time, as upstream; empty caches", async () => {
    const t = env();
    secretOf(await get(t, HOST, { AWS_ECR_DISABLE_CACHE: "true" }));
    secretOf(await get(t, HOST, { AWS_ECR_DISABLE_CACHE: "false" }));
    expect(fake.count()).toBe(2);
    expect(cachedEntries(t)).toHaveLength(0);
    secretOf(await get(t, HOST, { AWS_ECR_DISABLE_CACHE: "" }));
    secretOf(await get(t, HOST, { AWS_ECR_DISABLE_CACHE: "" }));
    expect(fake.count()).toBe(3);
  });

  test("AWS_ECR_CACHE_DIR holds the cache when CCH_CACHE_DIR is not set", async () => {
    const t = env();
    const dir = join(t.dir, "ecr-cache");
    const { CCH_CACHE_DIR: _unused, ...rest } = t.env;
    const r = await runHelper("ecr-login", ["get"], HOST, { ...rest, AWS_ECR_CACHE_DIR: dir });
    secretOf(r);
    expect([...new Bun.Glob("*.token.json").scanSync(dir)]).toHaveLength(1);
  });

  test("AWS_ECR_IGNORE_CREDS_STORAGE=true: store and erase succeed and save nothing", async () => {
    const t = env({ extra: { AWS_ECR_IGNORE_CREDS_STORAGE: "true" } });
    const login = JSON.stringify({ ServerURL: HOST, Username: "someone", Secret: "saved-secret" });
    expect((await runHelper("ecr-login", ["store"], login, t.env)).exitCode).toBe(0);
    expect(secretOf(await get(t, HOST))).not.toBe("saved-secret");
    expect((await runHelper("ecr-login", ["erase"], HOST, t.env)).exitCode).toBe(0);
  });
});
