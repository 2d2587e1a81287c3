// The AWS CLI v2 as the oracle for which principal signs: for each identity
// set-up, `aws ecr get-login-password` and our `get` run against the same
// loopback fake of ECR, STS, IAM Identity Center and a container credentials
// endpoint, and both calls to ECR must be signed by the same access key id.
// The fake verifies every SigV4 signature with the secret it knows for the
// key, so the whole key pair is checked, not only its id.
//
// The oracle is Debian's awscli package (2.9), called by its own path: an
// older aws v1 may come first on PATH. That CLI ignores AWS_ENDPOINT_URL_*:
// ECR is pointed at the fake with --endpoint-url, and STS and SSO with an
// AWS_DATA_PATH directory holding endpoint rule sets that resolve to the fake.
//
// All rows share one token cache, in order: a row whose principal differs
// from every earlier one must make its own call (a token cached for another
// principal is never served).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IN_CI, makeTestEnv, requireDist, runCommand, runHelper, type TestEnv } from "../support/env.ts";
import { serviceAccountToken } from "../support/kubelet.ts";
import { startFakeAws, type FakeAws } from "./fake-aws.ts";
import { ACCOUNT, HOST, REGION } from "./support.ts";

const AWS_CLI = "/usr/bin/aws";

function cliVersion(): string | null {
  if (!existsSync(AWS_CLI)) return null;
  const r = Bun.spawnSync([AWS_CLI, "--version"], { env: { PATH: "/usr/bin:/bin", HOME: tmpdir() } });
  const text = `${r.stdout.toString()}${r.stderr.toString()}`;
  return /^aws-cli\/2\./.test(text) ? text.trim() : null;
}
const VERSION = cliVersion();

const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const SSO_START_URL = "https://example-org.awsapps.com/start";
const SSO_TOKEN = "fake-sso-access-token-not-real";
const SSO_SESSION_TOKEN = "fake-sso-session-access-token-not-real";
const POD_TOKEN = "fake-eks-pod-identity-token-not-real";

interface Case {
  name: string;
  /** The access key id both must sign ECR with; null: both must fail without calling ECR. */
  expect: string | null;
  /** Static key pairs this set-up holds (registered with the fake, so it verifies their signatures). */
  keys?: Record<string, string>;
  env?: Record<string, string>;
  /** Only the CLI's environment (where the CLI lacks a feature; said in the case's name). */
  cliEnv?: Record<string, string>;
  config?: string;
  credentials?: string;
  /** Files to write under the case directory ({dir} in the environment and files stands for it). */
  files?: Record<string, { text: string; mode?: number }>;
}

const keysEnv = (id: string) => ({ AWS_ACCESS_KEY_ID: id, AWS_SECRET_ACCESS_KEY: `secret-${id}` });
const keyLines = (id: string) => `aws_access_key_id = ${id}\naws_secret_access_key = secret-${id}\n`;

const CASES: Case[] = [
  {
    name: "web identity from the environment and a [default] profile with keys (an EKS IRSA pod with a mounted ~/.aws)",
    expect: "ASIAIRSA",
    keys: { AKIADEFAULTIRSA: "" },
    env: { AWS_ROLE_ARN: role("irsa"), AWS_WEB_IDENTITY_TOKEN_FILE: "{dir}/irsa-token" },
    config: `[default]\n${keyLines("AKIADEFAULTIRSA")}`,
    files: { "irsa-token": { text: serviceAccountToken("team", "app", "uid-1", { audience: "sts.amazonaws.com" }) } },
  },
  {
    name: "AWS_PROFILE set and keys in the environment",
    expect: "AKIAENVOVERPROFILE",
    keys: { AKIAENVOVERPROFILE: "", AKIAPRODPROFILE: "" },
    env: { ...keysEnv("AKIAENVOVERPROFILE"), AWS_PROFILE: "prod" },
    credentials: `[prod]\n${keyLines("AKIAPRODPROFILE")}`,
  },
  {
    name: "a profile with credential_source = Environment, and keys in the environment",
    expect: "AKIAENVSOURCE",
    keys: { AKIAENVSOURCE: "" },
    env: { ...keysEnv("AKIAENVSOURCE"), AWS_PROFILE: "envrole" },
    config: `[profile envrole]\nrole_arn = ${role("fromenv")}\ncredential_source = Environment\n`,
  },
  {
    name: "AWS_DEFAULT_PROFILE=x",
    expect: "AKIAXPROFILE",
    keys: { AKIAXPROFILE: "", AKIADEFAULTX: "" },
    env: { AWS_DEFAULT_PROFILE: "x" },
    credentials: `[default]\n${keyLines("AKIADEFAULTX")}\n[x]\n${keyLines("AKIAXPROFILE")}`,
  },
  {
    name: "AWS_PROFILE and AWS_DEFAULT_PROFILE both set: AWS_PROFILE",
    expect: "AKIABOTHPROFILE",
    keys: { AKIABOTHPROFILE: "", AKIABOTHDEFAULT: "" },
    env: { AWS_PROFILE: "p", AWS_DEFAULT_PROFILE: "d" },
    credentials: `[p]\n${keyLines("AKIABOTHPROFILE")}\n[d]\n${keyLines("AKIABOTHDEFAULT")}`,
  },
  {
    name: "the default profile (credentials file)",
    expect: "AKIADEFAULTONLY",
    keys: { AKIADEFAULTONLY: "" },
    credentials: `[default]\n${keyLines("AKIADEFAULTONLY")}`,
  },
  {
    name: "AWS_PROFILE",
    expect: "AKIANAMEDPROFILE",
    keys: { AKIANAMEDPROFILE: "", AKIADEFAULTNAMED: "" },
    env: { AWS_PROFILE: "named" },
    credentials: `[default]\n${keyLines("AKIADEFAULTNAMED")}\n[named]\n${keyLines("AKIANAMEDPROFILE")}`,
  },
  {
    name: "role_arn with source_profile",
    expect: "ASIADEPLOY",
    keys: { AKIABASEDEPLOY: "" },
    env: { AWS_PROFILE: "deploy" },
    config: `[profile deploy]\nrole_arn = ${role("deploy")}\nsource_profile = base\n`,
    credentials: `[base]\n${keyLines("AKIABASEDEPLOY")}`,
  },
  {
    name: "a two-role chain (source_profile whose profile assumes a role too)",
    expect: "ASIASECOND",
    keys: { AKIABASECHAIN: "" },
    env: { AWS_PROFILE: "second" },
    config:
      `[profile second]\nrole_arn = ${role("second")}\nsource_profile = first\n\n` +
      `[profile first]\nrole_arn = ${role("first")}\nsource_profile = base\n`,
    credentials: `[base]\n${keyLines("AKIABASECHAIN")}`,
  },
  {
    name: "credential_process",
    expect: "AKIAPROCESSKEY",
    keys: { AKIAPROCESSKEY: "" },
    env: { AWS_PROFILE: "proc" },
    config: `[profile proc]\ncredential_process = {dir}/creds.sh\n`,
    files: {
      "creds.sh": {
        text: `#!/bin/sh\necho '{"Version": 1, "AccessKeyId": "AKIAPROCESSKEY", "SecretAccessKey": "secret-AKIAPROCESSKEY"}'\n`,
        mode: 0o755,
      },
    },
  },
  {
    name: "keys in the config file",
    expect: "AKIACONFIGFILE",
    keys: { AKIACONFIGFILE: "" },
    env: { AWS_PROFILE: "cfg" },
    config: `[profile cfg]\n${keyLines("AKIACONFIGFILE")}region = ${REGION}\n`,
  },
  {
    name: "SSO with a cached token",
    expect: "ASIASSOROLE",
    env: { AWS_PROFILE: "sso" },
    config:
      `[profile sso]\nsso_start_url = ${SSO_START_URL}\nsso_region = ${REGION}\n` +
      `sso_account_id = ${ACCOUNT}\nsso_role_name = ReadOnly\n`,
    files: {
      [`home/.aws/sso/cache/${createHash("sha1").update(SSO_START_URL).digest("hex")}.json`]: {
        text: JSON.stringify({
          startUrl: SSO_START_URL,
          region: REGION,
          accessToken: SSO_TOKEN,
          expiresAt: new Date(Date.now() + 8 * 3600_000).toISOString().replace(/\.\d+Z$/, "Z"),
        }),
      },
    },
  },
  {
    // The CLI 2.9 does not read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: it gets the same token inline.
    name: "EKS Pod Identity (container credentials, authorization token file; the CLI gets the token inline)",
    expect: "ASIAPODIDENTITY",
    env: {
      AWS_CONTAINER_CREDENTIALS_FULL_URI: "{url}/container-credentials/pod",
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: "{dir}/eks-pod-identity-token",
    },
    cliEnv: { AWS_CONTAINER_AUTHORIZATION_TOKEN: POD_TOKEN },
    files: { "eks-pod-identity-token": { text: POD_TOKEN } },
  },
  {
    name: "a profile's role_arn and a web identity in the environment: the profile's role (the CLI; the Go SDK differs)",
    expect: "ASIAPROFILEROLE",
    keys: { AKIABASEPROFILEROLE: "" },
    env: { AWS_PROFILE: "r", AWS_ROLE_ARN: role("irsa-unused"), AWS_WEB_IDENTITY_TOKEN_FILE: "{dir}/token" },
    config: `[profile r]\nrole_arn = ${role("profilerole")}\nsource_profile = base\n`,
    credentials: `[base]\n${keyLines("AKIABASEPROFILEROLE")}`,
    files: { token: { text: serviceAccountToken("team", "other", "uid-2", { audience: "sts.amazonaws.com" }) } },
  },
  {
    name: "web identity configured in the profile (web_identity_token_file, role_arn)",
    expect: "ASIAPROFILEWEB",
    env: { AWS_PROFILE: "w" },
    config: `[profile w]\nrole_arn = ${role("profileweb")}\nweb_identity_token_file = {dir}/token\n`,
    files: { token: { text: serviceAccountToken("team", "web", "uid-3", { audience: "sts.amazonaws.com" }) } },
  },
  {
    name: "SSO through an sso-session section, with a cached token",
    expect: "ASIASSOSESSION",
    env: { AWS_PROFILE: "sess" },
    config:
      `[profile sess]\nsso_session = corp\nsso_account_id = ${ACCOUNT}\nsso_role_name = Admin\n\n` +
      `[sso-session corp]\nsso_start_url = ${SSO_START_URL}\nsso_region = ${REGION}\nsso_registration_scopes = sso:account:access\n`,
    files: {
      [`home/.aws/sso/cache/${createHash("sha1").update("corp").digest("hex")}.json`]: {
        text: JSON.stringify({
          startUrl: SSO_START_URL,
          region: REGION,
          accessToken: SSO_SESSION_TOKEN,
          expiresAt: new Date(Date.now() + 8 * 3600_000).toISOString().replace(/\.\d+Z$/, "Z"),
          clientId: "fake-client-id",
          clientSecret: "fake-client-secret",
          registrationExpiresAt: new Date(Date.now() + 90 * 86400_000).toISOString().replace(/\.\d+Z$/, "Z"),
          refreshToken: "fake-refresh-token",
        }),
      },
    },
  },
  {
    name: "EC2 instance metadata (IMDSv2 at AWS_EC2_METADATA_SERVICE_ENDPOINT)",
    expect: "ASIAINSTANCEROLE",
    env: { AWS_EC2_METADATA_DISABLED: "false", AWS_EC2_METADATA_SERVICE_ENDPOINT: "{url}/" },
  },
  {
    name: "a profile's role with credential_source = Ec2InstanceMetadata",
    expect: "ASIAFROMINSTANCE",
    env: { AWS_PROFILE: "inst", AWS_EC2_METADATA_DISABLED: "false", AWS_EC2_METADATA_SERVICE_ENDPOINT: "{url}/" },
    config: `[profile inst]\nrole_arn = ${role("frominstance")}\ncredential_source = Ec2InstanceMetadata\n`,
  },
  {
    name: "a missing profile, with keys in the environment",
    expect: null,
    keys: { AKIAMISSINGPROFILE: "" },
    env: { ...keysEnv("AKIAMISSINGPROFILE"), AWS_PROFILE: "nope" },
    credentials: `[default]\n${keyLines("AKIADEFAULTMISSING")}`,
  },
];

let fake: FakeAws;
let cases: string;
let shared: TestEnv;
const rows: Array<{ name: string; cli: string; ours: string }> = [];

beforeAll(() => {
  if (VERSION === null) return;
  requireDist();
  fake = startFakeAws();
  cases = mkdtempSync(join(tmpdir(), "cch-ecr-oracle-"));
  // One cache for every row.
  shared = makeTestEnv();
});

afterAll(async () => {
  if (VERSION === null) return;
  await fake.stop();
  rmSync(cases, { recursive: true, force: true });
  shared.cleanup();
  if (process.env.CCH_ORACLE_TABLE) {
    writeFileSync(process.env.CCH_ORACLE_TABLE, rows.map((r) => `| ${r.name} | ${r.cli} | ${r.ours} |`).join("\n") + "\n");
  }
});

/** Endpoint rule sets that send every STS and SSO call of the CLI to the fake. */
function dataPath(dir: string, url: string): string {
  const rules = (name: string) =>
    JSON.stringify({
      version: "1.0",
      parameters: { Region: { builtIn: "AWS::Region", required: false, documentation: name, type: "String" } },
      rules: [{ conditions: [], endpoint: { url, properties: {}, headers: {} }, type: "endpoint" }],
    });
  for (const [service, version] of [
    ["sts", "2011-06-15"],
    ["sso", "2019-06-10"],
  ]) {
    mkdirSync(join(dir, service!, version!), { recursive: true });
    writeFileSync(join(dir, service!, version!, "endpoint-rule-set-1.json"), rules(service!));
  }
  return dir;
}

function setUp(c: Case, index: number): { env: Record<string, string>; cliEnv: Record<string, string> } {
  const dir = join(cases, String(index));
  const home = join(dir, "home");
  mkdirSync(join(home, ".aws"), { recursive: true });
  const fill = (text: string) => text.replaceAll("{dir}", dir).replaceAll("{url}", fake.url);
  for (const [path, file] of Object.entries(c.files ?? {})) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), fill(file.text));
    if (file.mode !== undefined) chmodSync(join(dir, path), file.mode);
  }
  if (c.config !== undefined) writeFileSync(join(home, ".aws", "config"), fill(c.config));
  if (c.credentials !== undefined) writeFileSync(join(home, ".aws", "credentials"), fill(c.credentials));
  for (const id of Object.keys(c.keys ?? {})) fake.secrets.set(id, `secret-${id}`);
  const caseEnv = Object.fromEntries(Object.entries(c.env ?? {}).map(([k, v]) => [k, fill(v)]));
  const common = {
    HOME: home,
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_EC2_METADATA_DISABLED: "true",
    ...caseEnv,
  };
  const env = {
    ...shared.env,
    ...common,
    AWS_ENDPOINT_URL_ECR: fake.url,
    AWS_ENDPOINT_URL_STS: fake.url,
    AWS_ENDPOINT_URL_SSO: fake.url,
    CCH_TIMEOUT: "30",
  };
  const cliEnv = {
    PATH: "/usr/bin:/bin",
    AWS_PAGER: "",
    AWS_DATA_PATH: dataPath(join(dir, "aws-data"), fake.url),
    ...common,
    ...c.cliEnv,
  };
  return { env, cliEnv };
}

/** The access key id that signed the ECR calls made since `from`, or a note of what happened instead. */
function signer(from: number): string {
  const ecr = fake.calls.slice(from).filter((c) => c.service === "ecr");
  if (ecr.length === 0) return "(no ECR call)";
  return [...new Set(ecr.map((c) => c.accessKeyId))].join(", ");
}

describe.if(VERSION !== null)(`the AWS CLI (${VERSION ?? "missing"}) and we sign with the same principal`, () => {
  CASES.forEach((c, index) => {
    test(c.name, async () => {
      fake.strictKeys = true;
      // The CLI splits the decoded token on every ':', so the password has none.
      fake.fixedPassword = `password-of-row-${index}`;
      fake.ssoTokens.set(SSO_TOKEN, "ASIASSOROLE");
      fake.ssoTokens.set(SSO_SESSION_TOKEN, "ASIASSOSESSION");
      fake.containerTokens.set(POD_TOKEN, "ASIAPODIDENTITY");
      const { env, cliEnv } = setUp(c, index);

      const beforeCli = fake.calls.length;
      const cli = await runCommand(
        [AWS_CLI, "ecr", "get-login-password", "--endpoint-url", fake.url, "--region", REGION],
        "",
        cliEnv,
        { timeoutMs: 60_000 },
      );
      const cliKey = cli.exitCode === 0 ? signer(beforeCli) : `fails: ${cli.stderr.trim().split("\n").at(-1)}`;

      const beforeOurs = fake.calls.length;
      const ours = await runHelper("ecr-login", ["get"], HOST, env, { timeoutMs: 60_000 });
      const ourKey = ours.exitCode === 0 ? signer(beforeOurs) : `fails: ${ours.stdout.trim()}`;
      rows.push({ name: c.name, cli: cliKey, ours: ourKey });

      expect(fake.refused).toEqual([]);
      if (c.expect === null) {
        expect(cli.exitCode).not.toBe(0);
        expect(ours.exitCode).toBe(1);
        expect(fake.calls.slice(beforeCli).filter((x) => x.service === "ecr")).toEqual([]);
        expect(ours.stdout).toContain('the AWS profile "nope" (from AWS_PROFILE)');
        return;
      }
      expect(cliKey).toBe(c.expect);
      // A token cached for an earlier row's principal would show as "(no ECR call)".
      expect(ourKey).toBe(c.expect);
      if (c.files?.["eks-pod-identity-token"]) {
        // The agent's protocol: GET with the token file's contents as the whole Authorization header.
        expect(fake.calls.slice(beforeOurs).filter((x) => x.service === "container")).toHaveLength(1);
      }
    }, 120_000);
  });
});

describe.if(VERSION !== null)("the fake's strictness", () => {
  test("a key pair whose secret is not the one the fake knows is refused, and so is an unknown key", async () => {
    fake.strictKeys = true;
    fake.secrets.set("AKIASTRICTCHECK", "the-right-secret");
    const t = makeTestEnv();
    try {
      const env = { ...t.env, AWS_ENDPOINT_URL_ECR: fake.url, AWS_EC2_METADATA_DISABLED: "true", AWS_ACCESS_KEY_ID: "AKIASTRICTCHECK" };
      const wrong = await runHelper("ecr-login", ["get"], HOST, { ...env, AWS_SECRET_ACCESS_KEY: "a-wrong-secret" });
      expect(wrong.exitCode).toBe(1);
      expect(fake.refused).toEqual(["AKIASTRICTCHECK: signature mismatch"]);
      const unknown = await runHelper("ecr-login", ["get"], HOST, { ...env, AWS_ACCESS_KEY_ID: "AKIAUNKNOWN", AWS_SECRET_ACCESS_KEY: "x" });
      expect(unknown.exitCode).toBe(1);
      expect(fake.refused[1]).toBe("unknown access key id AKIAUNKNOWN");
      const right = await runHelper("ecr-login", ["get"], HOST, { ...env, AWS_SECRET_ACCESS_KEY: "the-right-secret" });
      expect(right.exitCode).toBe(0);
    } finally {
      fake.refused.length = 0;
      t.cleanup();
    }
  });
});

if (VERSION === null) {
  if (IN_CI) {
    test("the AWS CLI oracle", () => {
      throw new Error(`${AWS_CLI} is not the AWS CLI v2: .ci/run installs Debian's awscli package`);
    });
  } else {
    console.warn(`skipping the AWS CLI oracle: ${AWS_CLI} (Debian's awscli, v2) is not installed`);
  }
}
