// describeIdentity for `doctor`: the AWS identity sources found locally, in
// the SDK's order, which one a fetch would use, and never a secret.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { describeVia } from "../support/provider.ts";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EMPTY_CONFIG } from "../../src/config.ts";
import { createLogger } from "../../src/log.ts";
import type { Context, IdentityReport, Target } from "../../src/provider.ts";
import { provider } from "../../src/providers/ecr.ts";
import { describeEcrIdentity, iniKeys, type MetadataProbe } from "../../src/providers/ecr/describe.ts";
import { matchEcrHost, type EcrTarget } from "../../src/providers/ecr/hosts.ts";
import { HOST } from "./support.ts";

const SECRETS = ["AKIDDESCRIBEKEY", "describe-secret-not-real", "describe-session-token", "file-secret-not-real", "AKIDFILEKEY"];
const ROLE = "arn:aws:iam::123456789012:role/pull";
let dir: string;
let configFile: string;
let credentialsFile: string;
let tokenFile: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "cch-ecr-describe-"));
  configFile = join(dir, "config");
  credentialsFile = join(dir, "credentials");
  tokenFile = join(dir, "web-token");
  writeFileSync(
    configFile,
    [
      "[default]",
      "region = eu-west-1",
      "",
      "[profile prod]",
      `role_arn = ${ROLE}`,
      "source_profile = base",
      "",
      "[profile sso]",
      "sso_session = corp",
      "sso_account_id = 123456789012",
      "[sso-session corp]",
      "sso_start_url = https://corp.awsapps.com/start",
    ].join("\n"),
  );
  writeFileSync(
    credentialsFile,
    ["[base]", "aws_access_key_id = AKIDFILEKEY", "aws_secret_access_key = file-secret-not-real", ""].join("\n"),
  );
  writeFileSync(tokenFile, "eyJ.web-identity-token-content.sig");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const target = (settings: Record<string, string> = {}): Target<EcrTarget> => ({
  host: { key: HOST, hostname: HOST, port: null },
  registry: HOST,
  settings,
  details: matchEcrHost(HOST)!,
});

function context(env: Record<string, string>, serviceAccount?: Context["serviceAccount"]): Context {
  return {
    env: { AWS_CONFIG_FILE: configFile, AWS_SHARED_CREDENTIALS_FILE: credentialsFile, HOME: dir, ...env },
    now: () => new Date(),
    log: createLogger(null, "test"),
    signal: new AbortController().signal,
    deadline: Date.now() + 5_000,
    config: EMPTY_CONFIG,
    ...(serviceAccount ? { serviceAccount } : {}),
  };
}

/** A probe that must not be called: every test but the metadata ones stays off the network. */
const noProbe: MetadataProbe = async () => {
  throw new Error("the metadata server was probed");
};

const byName = (r: IdentityReport, name: string) => r.sources.find((s) => s.name === name);
const noSecrets = (r: IdentityReport) => {
  const text = JSON.stringify(r);
  for (const s of SECRETS) expect(text).not.toContain(s);
  expect(text).not.toContain("web-identity-token-content");
};

describe("describeIdentity", () => {
  test("environment keys are used, in the SDK's order, and never shown", async () => {
    const r = await describeEcrIdentity(
      target(),
      context({ AWS_ACCESS_KEY_ID: SECRETS[0]!, AWS_SECRET_ACCESS_KEY: SECRETS[1]!, AWS_SESSION_TOKEN: SECRETS[2]! }),
      noProbe,
    );
    expect(r.used).toBe("environment variables");
    expect(r.sources.map((s) => s.name)).toEqual([
      "environment variables",
      "profile default",
      "web identity token file",
      "container credentials endpoint",
      "EC2 instance metadata",
    ]);
    expect(byName(r, "environment variables")!.detail).toBe(
      "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN are set",
    );
    expect(byName(r, "profile default")).toMatchObject({ found: true });
    expect(byName(r, "EC2 instance metadata")!.detail).toBe("not checked: environment variables comes first");
    noSecrets(r);
  });

  test("a profile from AWS_PROFILE or the settings: what kind it is, from key names only; env keys ignored as the SDK does", async () => {
    const r = await describeEcrIdentity(
      target(),
      context({ AWS_PROFILE: "prod", AWS_ACCESS_KEY_ID: SECRETS[0]!, AWS_SECRET_ACCESS_KEY: SECRETS[1]! }),
      noProbe,
    );
    expect(r.used).toBe("profile prod (from AWS_PROFILE)");
    expect(byName(r, "profile prod (from AWS_PROFILE)")!.detail).toBe(`${configFile} [profile prod] (role to assume)`);
    expect(byName(r, "environment variables")).toMatchObject({ found: false });
    expect(byName(r, "environment variables")!.detail).toContain("ignored because a profile is named");
    expect(r.sources.some((s) => s.name === "profile default")).toBe(false);
    expect(JSON.stringify(r)).not.toContain(ROLE); // key names, not values

    const sso = await describeEcrIdentity(target({ profile: "sso" }), context({ AWS_PROFILE: "prod" }), noProbe);
    expect(sso.used).toBe("profile sso (from the configuration file)");
    expect(sso.sources[0]!.detail).toContain("IAM Identity Center (SSO)");

    const base = await describeEcrIdentity(target({ profile: "base" }), context({}), noProbe);
    expect(base.sources[0]!.detail).toBe(`${credentialsFile} [base] (static keys)`);
    noSecrets(base);
  });

  test("a missing profile is reported, and the chain goes on to the sources the SDK would still try", async () => {
    const r = await describeEcrIdentity(
      target(),
      context({ AWS_PROFILE: "nope", AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile, AWS_ROLE_ARN: ROLE }),
      noProbe,
    );
    expect(r.sources[0]).toEqual({
      name: "profile nope (from AWS_PROFILE)",
      found: false,
      detail: `not in ${configFile} or ${credentialsFile}`,
    });
    expect(r.used).toBe("web identity token file");
    expect(byName(r, "web identity token file")!.detail).toBe(`${tokenFile} for role ${ROLE}`);
    noSecrets(r);
  });

  test("web identity and container endpoints: half-configured sources say what is missing", async () => {
    const r = await describeEcrIdentity(
      target(),
      context({
        AWS_CONFIG_FILE: join(dir, "absent"),
        AWS_SHARED_CREDENTIALS_FILE: join(dir, "absent"),
        AWS_ACCESS_KEY_ID: SECRETS[0]!,
        AWS_WEB_IDENTITY_TOKEN_FILE: join(dir, "no-such-token"),
        AWS_ROLE_ARN: ROLE,
        AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://169.254.170.23/v1/credentials",
        AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile,
        AWS_EC2_METADATA_DISABLED: "true",
      }),
      noProbe,
    );
    expect(byName(r, "environment variables")).toEqual({
      name: "environment variables",
      found: false,
      detail: "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not",
    });
    expect(byName(r, "profile default")).toMatchObject({ found: false });
    expect(byName(r, "web identity token file")!.detail).toContain("does not exist");
    expect(byName(r, "container credentials endpoint")).toEqual({
      name: "container credentials endpoint",
      found: true,
      detail: `AWS_CONTAINER_CREDENTIALS_FULL_URI (169.254.170.23), authorization token file ${tokenFile}`,
    });
    expect(r.used).toBe("container credentials endpoint");
    expect(byName(r, "EC2 instance metadata")!.detail).toBe("disabled by AWS_EC2_METADATA_DISABLED");
    noSecrets(r);
  });

  test("nothing found: the metadata server is probed within the deadline, and used only if it names a role", async () => {
    const empty = { AWS_CONFIG_FILE: join(dir, "absent"), AWS_SHARED_CREDENTIALS_FILE: join(dir, "absent") };
    const probes: Array<[string, number]> = [];
    const withRole: MetadataProbe = async (endpoint, timeoutMs) => {
      probes.push([endpoint, timeoutMs]);
      return { role: "node-role" };
    };
    const r = await describeEcrIdentity(
      target(),
      context({ ...empty, AWS_EC2_METADATA_SERVICE_ENDPOINT: "http://127.0.0.1:1/" }),
      withRole,
    );
    expect(probes).toHaveLength(1);
    expect(probes[0]![0]).toBe("http://127.0.0.1:1");
    expect(probes[0]![1]).toBeLessThanOrEqual(1000);
    expect(r.used).toBe("EC2 instance metadata");
    expect(byName(r, "EC2 instance metadata")!.detail).toBe("instance profile role node-role (http://127.0.0.1:1)");

    const noRole = await describeEcrIdentity(target(), context(empty), async () => ({ role: null }));
    expect(noRole.used).toBeNull();
    expect(byName(noRole, "EC2 instance metadata")!.detail).toContain("has no IAM role");
    const silent = await describeEcrIdentity(target(), context(empty), async () => null);
    expect(silent.used).toBeNull();
    expect(byName(silent, "EC2 instance metadata")!.detail).toMatch(/^no answer from http:\/\/169\.254\.169\.254 within \d+ ms$/);
    const late = await describeEcrIdentity(target(), { ...context(empty), deadline: Date.now() - 1 }, noProbe);
    expect(byName(late, "EC2 instance metadata")!.detail).toContain("no time left");
  });

  test("the real probe speaks IMDSv2 to a local fake, and keeps its session token to itself", async () => {
    const seen: string[] = [];
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        const url = new URL(req.url);
        seen.push(`${req.method} ${url.pathname}`);
        if (req.method === "PUT" && url.pathname === "/latest/api/token") return new Response("imds-session-token-secret");
        if (req.headers.get("x-aws-ec2-metadata-token") !== "imds-session-token-secret") return new Response("", { status: 401 });
        return new Response("fake-node-role\n");
      },
    });
    try {
      const r = await describeEcrIdentity(
        target(),
        context({
          AWS_CONFIG_FILE: join(dir, "absent"),
          AWS_SHARED_CREDENTIALS_FILE: join(dir, "absent"),
          AWS_EC2_METADATA_SERVICE_ENDPOINT: `http://127.0.0.1:${server.port}`,
        }),
      );
      expect(seen).toEqual(["PUT /latest/api/token", "GET /latest/meta-data/iam/security-credentials/"]);
      expect(r.used).toBe("EC2 instance metadata");
      expect(JSON.stringify(r)).not.toContain("imds-session-token-secret");
    } finally {
      server.stop(true);
    }
  });

  test("a role to assume from the settings is what a fetch uses, on top of the base identity", async () => {
    const r = await describeEcrIdentity(
      target({ roleArn: ROLE }),
      context({ AWS_ACCESS_KEY_ID: SECRETS[0]!, AWS_SECRET_ACCESS_KEY: SECRETS[1]! }),
      noProbe,
    );
    expect(r.used).toBe(`role ${ROLE} (from the configuration file)`);
    expect(r.sources.at(-1)).toEqual({ name: r.used!, found: true, detail: "assumed with environment variables" });
  });

  test("pod mode: only the pod's token, with the role it would be exchanged for; the node's sources are not candidates", async () => {
    const token = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJwb2QifQ.pod-token-describe";
    const keys = { AWS_ACCESS_KEY_ID: SECRETS[0]!, AWS_SECRET_ACCESS_KEY: SECRETS[1]! };
    const r = await describeEcrIdentity(
      target(),
      context(keys, { token, annotations: { "eks.amazonaws.com/ecr-role-arn": ROLE } }),
      noProbe,
    );
    expect(r).toEqual({
      sources: [
        {
          name: "the pod's service account token",
          found: true,
          detail: `exchanged with STS for role ${ROLE} (from the annotation eks.amazonaws.com/ecr-role-arn)`,
        },
      ],
      used: "the pod's service account token",
    });
    const none = await describeEcrIdentity(target(), context(keys, { token, annotations: {} }), noProbe);
    expect(none.used).toBeNull();
    expect(none.sources[0]!.detail).toContain("AWS_ECR_ROLE_ARN");
    for (const x of [r, none]) expect(JSON.stringify(x)).not.toContain(token);
  });

  test("the provider exposes it, and loads no SDK for it", async () => {
    const r = await describeVia(provider, target(), context({ AWS_ACCESS_KEY_ID: "AKIDX", AWS_SECRET_ACCESS_KEY: "s" }));
    expect(r.used).toBe("environment variables");
  });
});

describe("iniKeys", () => {
  test("key names of one section, comments and other sections skipped; null when absent", () => {
    const f = join(dir, "ini");
    mkdirSync(dir, { recursive: true });
    writeFileSync(f, "# c\n[ profile  a ]\nx = 1\n; y = 2\nZ=3\n[b]\nw = 4\n");
    expect(iniKeys(f, ["profile a"])).toEqual(["x", "z"]);
    expect(iniKeys(f, ["b"])).toEqual(["w"]);
    expect(iniKeys(f, ["c"])).toBeNull();
    expect(iniKeys(join(dir, "absent"), ["a"])).toBeNull();
  });
});

describe("provider settings for kubelet and --help", () => {
  test("service-account tokens: STS audience, the role annotation optional", () => {
    expect(provider.manifest.serviceAccountTokens).toEqual({
      audience: "sts.amazonaws.com",
      optionalAnnotationKeys: ["eks.amazonaws.com/ecr-role-arn"],
    });
  });
  test("helpText names the settings keys and the environment variables", () => {
    for (const word of [
      "profile",
      "roleArn",
      "alias",
      "AWS_ECR_CACHE_DIR",
      "AWS_ECR_DISABLE_CACHE",
      "AWS_ECR_IGNORE_CREDS_STORAGE",
      "AWS_ECR_ROLE_ARN",
      "AWS_ENDPOINT_URL_ECR",
    ]) {
      expect(provider.manifest.helpText).toContain(word);
    }
    expect(provider.manifest.helpText!.split("\n").length).toBeLessThan(20);
  });
});
