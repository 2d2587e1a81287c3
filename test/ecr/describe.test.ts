// describeIdentity for `doctor`: the plan's walk through the AWS CLI's chain,
// every step in order with what it found, which one a fetch uses, and never a
// secret.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { describeVia } from "../support/provider.ts";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EMPTY_CONFIG } from "../../src/config.ts";
import { createLogger } from "../../src/log.ts";
import type { Context, IdentityReport, Target } from "../../src/provider.ts";
import { provider } from "../../src/providers/ecr.ts";
import { describeEcrIdentity, type MetadataProbe } from "../../src/providers/ecr/describe.ts";
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

/** As doctor calls it: the provider's plan, then the report from it. */
const describeFor = async (t: Target<EcrTarget>, ctx: Context, probe?: MetadataProbe) =>
  describeEcrIdentity(t, provider.plan(t, ctx), ctx, probe);

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
  const names = (r: IdentityReport) => r.sources.map((s) => s.name);

  test("environment keys are used; every step of the CLI's chain is listed in order, later finds marked unused; never a secret", async () => {
    const r = await describeFor(
      target(),
      context({ AWS_ACCESS_KEY_ID: SECRETS[0]!, AWS_SECRET_ACCESS_KEY: SECRETS[1]!, AWS_SESSION_TOKEN: SECRETS[2]! }),
      noProbe,
    );
    expect(r.used).toBe("environment keys");
    expect(names(r)).toEqual([
      "environment keys",
      "profile default: role to assume",
      "web identity",
      "profile default: IAM Identity Center (SSO)",
      `profile default: keys in ${credentialsFile}`,
      "profile default: credential_process",
      `profile default: keys in ${configFile}`,
      "container credentials",
      "EC2 instance metadata",
    ]);
    expect(byName(r, "environment keys")).toEqual({
      name: "environment keys",
      found: true,
      detail: "AWS_ACCESS_KEY_ID …EKEY and AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN are set",
    });
    // Found, but after the used one: doctor says so, and nothing probes the metadata server.
    expect(byName(r, "EC2 instance metadata")!.detail).toStartWith("also here, but not used:");
    noSecrets(r);
  });

  test("AWS_PROFILE does not hide the environment's keys (as in the CLI); a profile's role names its source", async () => {
    const r = await describeFor(
      target(),
      context({ AWS_PROFILE: "prod", AWS_ACCESS_KEY_ID: SECRETS[0]!, AWS_SECRET_ACCESS_KEY: SECRETS[1]!, AWS_EC2_METADATA_DISABLED: "1" }),
      noProbe,
    );
    expect(r.used).toBe("environment keys");
    expect(byName(r, "profile prod: role to assume")!.detail).toBe(
      `also here, but not used: profile prod: role ${ROLE} assumed with profile base: keys …EKEY in ${credentialsFile}`,
    );
    const own = await describeFor(target(), context({ AWS_PROFILE: "prod", AWS_EC2_METADATA_DISABLED: "1" }), noProbe);
    expect(own.used).toBe("profile prod: role to assume");
    noSecrets(own);
  });

  test("a profile named for the registry is the CLI's --profile: environment keys and web identity are not steps", async () => {
    const r = await describeFor(
      target({ profile: "base" }),
      context({ AWS_ACCESS_KEY_ID: SECRETS[0]!, AWS_SECRET_ACCESS_KEY: SECRETS[1]!, AWS_EC2_METADATA_DISABLED: "1" }),
      noProbe,
    );
    expect(r.used).toBe(`profile base: keys in ${credentialsFile}`);
    expect(byName(r, "environment keys")).toEqual({ name: "environment keys", found: false });
    noSecrets(r);
  });

  test("an SSO profile without its role is an error naming what is missing", () => {
    expect(() => provider.plan(target({ profile: "sso" }), context({}))).toThrow("profile sso is an SSO profile without sso_role_name, sso_region");
  });

  test("a missing profile is an error, as for the CLI: doctor shows it and uses nothing", async () => {
    const r = await describeFor(target(), context({ AWS_PROFILE: "nope", AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile, AWS_ROLE_ARN: ROLE }), noProbe).catch(
      (err: Error) => err.message,
    );
    expect(r).toBe(`the AWS profile "nope" (from AWS_PROFILE) is in neither ${configFile} nor ${credentialsFile}`);
  });

  test("half-configured sources stop the chain with what is missing, as the CLI does: the plan fails and says so", () => {
    const ctx = context({ AWS_CONFIG_FILE: join(dir, "absent"), AWS_SHARED_CREDENTIALS_FILE: join(dir, "absent"), AWS_ACCESS_KEY_ID: SECRETS[0]! });
    expect(() => provider.plan(target(), ctx)).toThrow("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
  });

  test("web identity, then container credentials with an authorization token file", async () => {
    const base = { AWS_CONFIG_FILE: join(dir, "absent"), AWS_SHARED_CREDENTIALS_FILE: join(dir, "absent"), AWS_EC2_METADATA_DISABLED: "true" };
    const web = await describeFor(target(), context({ ...base, AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile, AWS_ROLE_ARN: ROLE }), noProbe);
    expect(web.used).toBe("web identity");
    expect(byName(web, "web identity")!.detail).toBe(`token file ${tokenFile} (AWS_WEB_IDENTITY_TOKEN_FILE) for role ${ROLE} (AWS_ROLE_ARN)`);
    const pod = await describeFor(
      target(),
      context({ ...base, AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://169.254.170.23/v1/credentials", AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile }),
      noProbe,
    );
    expect(pod.used).toBe("container credentials");
    expect(byName(pod, "container credentials")!.detail).toBe(
      `container credentials from 169.254.170.23 (AWS_CONTAINER_CREDENTIALS_FULL_URI), authorization token from ${tokenFile}`,
    );
    expect(byName(pod, "EC2 instance metadata")).toEqual({ name: "EC2 instance metadata", found: false });
    noSecrets(web);
    noSecrets(pod);
  });

  test("nothing else: the metadata server is probed within the deadline, and used only if it names a role", async () => {
    const empty = { AWS_CONFIG_FILE: join(dir, "absent"), AWS_SHARED_CREDENTIALS_FILE: join(dir, "absent") };
    const probes: Array<[string, number]> = [];
    const withRole: MetadataProbe = async (endpoint, timeoutMs) => {
      probes.push([endpoint, timeoutMs]);
      return { role: "node-role" };
    };
    const r = await describeFor(target(), context({ ...empty, AWS_EC2_METADATA_SERVICE_ENDPOINT: "http://127.0.0.1:1/" }), withRole);
    expect(probes).toHaveLength(1);
    expect(probes[0]![0]).toBe("http://127.0.0.1:1");
    expect(probes[0]![1]).toBeLessThanOrEqual(1000);
    expect(r.used).toBe("EC2 instance metadata");
    expect(byName(r, "EC2 instance metadata")!.detail).toBe("instance profile role node-role (http://127.0.0.1:1)");

    const noRole = await describeFor(target(), context(empty), async () => ({ role: null }));
    expect(noRole.used).toBeNull();
    expect(byName(noRole, "EC2 instance metadata")!.detail).toContain("has no IAM role");
    const silent = await describeFor(target(), context(empty), async () => null);
    expect(silent.used).toBeNull();
    expect(byName(silent, "EC2 instance metadata")!.detail).toMatch(/^no answer from http:\/\/169\.254\.169\.254 within \d+ ms$/);
    const late = await describeFor(target(), { ...context(empty), deadline: Date.now() - 1 }, noProbe);
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
      const r = await describeFor(
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
    const r = await describeFor(
      target({ roleArn: ROLE }),
      context({ AWS_ACCESS_KEY_ID: SECRETS[0]!, AWS_SECRET_ACCESS_KEY: SECRETS[1]! }),
      noProbe,
    );
    expect(r.used).toBe(`role ${ROLE} (from the configuration file)`);
    expect(r.sources.at(-1)).toEqual({ name: r.used!, found: true, detail: "assumed with environment keys (AWS_ACCESS_KEY_ID …EKEY)" });
  });

  test("pod mode: the pod's token with its role; without a role, the node's chain is what serves the pod", async () => {
    const token = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJwb2QifQ.pod-token-describe";
    const keys = { AWS_ACCESS_KEY_ID: SECRETS[0]!, AWS_SECRET_ACCESS_KEY: SECRETS[1]! };
    const r = await describeFor(target(), context(keys, { token, annotations: { "eks.amazonaws.com/ecr-role-arn": ROLE } }), noProbe);
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
    const none = await describeFor(target(), context(keys, { token, annotations: {} }), noProbe);
    expect(none.used).toBe("environment keys");
    expect(none.sources[0]).toMatchObject({ name: "the pod's service account token", found: false });
    expect(none.sources[0]!.detail).toContain("the node's identity is used");
    for (const x of [r, none]) expect(JSON.stringify(x)).not.toContain(token);
  });

  test("the provider exposes it, and loads no SDK for it", async () => {
    const r = await describeVia(provider, target(), context({ AWS_ACCESS_KEY_ID: "AKIDX", AWS_SECRET_ACCESS_KEY: "s" }));
    expect(r.used).toBe("environment keys");
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
