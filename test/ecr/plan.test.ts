// The identity plan: which single source the AWS CLI's chain picks, and a
// cache key that names the principal and never anything coarser (nor a
// secret). Pure: files in a temp dir, no network, no SDK.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ProviderError } from "../../src/provider.ts";
import { planEcr, type EcrPlan } from "../../src/providers/ecr/plan.ts";
import type { EcrSettings } from "../../src/providers/ecr/settings.ts";
import { parseIni, readSharedFiles } from "../../src/providers/ecr/shared-files.ts";
import { serviceAccountToken } from "../support/kubelet.ts";

const ROLE = "arn:aws:iam::123456789012:role/pull";
let dir: string;
const path = (name: string) => join(dir, name);
const write = (name: string, text: string) => {
  writeFileSync(path(name), text);
  return path(name);
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "cch-ecr-plan-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function plan(env: Record<string, string>, settings: EcrSettings = {}, serviceAccount?: { token: string; annotations: Record<string, string> }): EcrPlan {
  return planEcr(settings, {
    env: { HOME: dir, AWS_CONFIG_FILE: path("none"), AWS_SHARED_CREDENTIALS_FILE: path("none"), AWS_EC2_METADATA_DISABLED: "true", ...env },
    ...(serviceAccount ? { serviceAccount } : {}),
  });
}
const keys = (id: string, secret = "s3cr3t-not-real") => ({ AWS_ACCESS_KEY_ID: id, AWS_SECRET_ACCESS_KEY: secret });

describe("the cache key names the principal", () => {
  test("environment keys: by a hash of the access key id; another pair is another key, the same pair the same", () => {
    const a = plan(keys("AKIDFIRSTPAIR"));
    const b = plan(keys("AKIDSECONDPAIR"));
    expect(a.leaf).toEqual({ kind: "environment" });
    expect(a.key).toMatch(/^env:[0-9a-f]{12}$/);
    expect(a.key).not.toBe(b.key);
    expect(plan(keys("AKIDFIRSTPAIR", "rotated-secret")).key).toBe(a.key);
    expect(JSON.stringify(a)).not.toContain("AKIDFIRSTPAIR");
    expect(JSON.stringify(a)).not.toContain("s3cr3t");
  });

  test("two profiles with one name in two config files are two principals", () => {
    const one = write("config-one", "[profile p]\naws_access_key_id = AKIDONE\naws_secret_access_key = x\n");
    const two = write("config-two", "[profile p]\naws_access_key_id = AKIDTWO\naws_secret_access_key = y\n");
    const a = plan({ AWS_PROFILE: "p", AWS_CONFIG_FILE: one });
    const b = plan({ AWS_PROFILE: "p", AWS_CONFIG_FILE: two });
    expect(a.key).not.toBe(b.key);
    expect(a.key).toStartWith("profile:p@");
    // Same keys, another file: still told apart by the files' paths.
    const copy = write("config-copy", "[profile p]\naws_access_key_id = AKIDONE\naws_secret_access_key = x\n");
    expect(plan({ AWS_PROFILE: "p", AWS_CONFIG_FILE: copy }).key).not.toBe(a.key);
  });

  test("a profile's role: the roles in order and the source keys' hash", () => {
    const config = write(
      "config-roles",
      `[profile second]\nrole_arn = ${ROLE}2\nsource_profile = first\n[profile first]\nrole_arn = ${ROLE}1\nsource_profile = base\nexternal_id = ext\n`,
    );
    const creds = write("creds-roles", "[base]\naws_access_key_id = AKIDBASEA\naws_secret_access_key = x\n");
    const creds2 = write("creds-roles2", "[base]\naws_access_key_id = AKIDBASEB\naws_secret_access_key = x\n");
    const a = plan({ AWS_PROFILE: "second", AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: creds });
    expect(a.leaf).toEqual({ kind: "file-keys", profile: "base", file: "credentials" });
    expect(a.roles).toEqual([
      { roleArn: `${ROLE}1`, profile: "first", externalId: "ext" },
      { roleArn: `${ROLE}2`, profile: "second" },
    ]);
    expect(a.key).toContain(`>role:${ROLE}1>role:${ROLE}2`);
    const b = plan({ AWS_PROFILE: "second", AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: creds2 });
    expect(b.key).not.toBe(a.key);
    expect(a.source).toBe(
      `profile second: role ${ROLE}2 assumed with profile first: role ${ROLE}1 assumed with profile base: keys …ASEA in ${creds}`,
    );
  });

  test("web identity: by role and the token's subject (a rotated token is the same principal)", () => {
    const t1 = write("tok1", serviceAccountToken("ns", "a", "uid", { nonce: "1" }));
    const t1b = write("tok1b", serviceAccountToken("ns", "a", "uid", { nonce: "2" }));
    const t2 = write("tok2", serviceAccountToken("ns", "b", "uid", { nonce: "1" }));
    const p = (file: string, role = ROLE) => plan({ AWS_ROLE_ARN: role, AWS_WEB_IDENTITY_TOKEN_FILE: file });
    expect(p(t1).key).toBe(p(t1b).key);
    expect(p(t1).key).not.toBe(p(t2).key);
    expect(p(t1).key).not.toBe(p(t1, `${ROLE}x`).key);
    expect(p(t1).key).toStartWith(`web:${ROLE}:`);
  });

  test("SSO by start URL, account and role; container credentials by URI; instance metadata by endpoint", () => {
    const config = write(
      "config-sso",
      "[profile a]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = Read\n" +
        "[profile b]\nsso_session = corp\nsso_account_id = 222222222222\nsso_role_name = Read\n" +
        "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n",
    );
    const a = plan({ AWS_PROFILE: "a", AWS_CONFIG_FILE: config });
    expect(a.leaf).toEqual({ kind: "sso", profile: "a" });
    expect(a.key).toMatch(/\|sso:[0-9a-f]{12}:111111111111:Read$/);
    expect(plan({ AWS_PROFILE: "b", AWS_CONFIG_FILE: config }).key).not.toBe(a.key);

    // Only sso_session (a profile for SSO tokens, not credentials): not an SSO credential source, the chain goes on.
    const tokenOnly = write("config-sso-token", "[profile t]\nsso_session = corp\n[sso-session corp]\nsso_start_url = u\nsso_region = r\n");
    expect(plan({ AWS_PROFILE: "t", AWS_CONFIG_FILE: tokenOnly, AWS_EC2_METADATA_DISABLED: "" }).leaf.kind).toBe("instance-metadata");

    const c1 = plan({ AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://169.254.170.23/v1/credentials" });
    const c2 = plan({ AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "/v2/credentials/task" });
    expect(c1.key).toMatch(/^container:/);
    expect(c1.key).not.toBe(c2.key);
    expect(c2.leaf).toEqual({ kind: "container", relativeUri: "/v2/credentials/task" });

    const imds = plan({ AWS_EC2_METADATA_DISABLED: "" });
    expect(imds.leaf).toEqual({ kind: "instance-metadata", endpoint: "http://169.254.169.254" });
    expect(imds.key).toMatch(/^imds:/);
  });

  test("a role from the registry's settings goes on top and into the key", () => {
    const p = plan(keys("AKIDBASE"), { roleArn: ROLE });
    expect(p.roles).toEqual([{ roleArn: ROLE }]);
    expect(p.key).toEndWith(`>role:${ROLE}`);
  });
});

describe("the chain, in the AWS CLI's order", () => {
  const irsa = () => ({ AWS_ROLE_ARN: ROLE, AWS_WEB_IDENTITY_TOKEN_FILE: write("irsa", "not-a-jwt") });

  test("web identity from the environment beats a [default] profile's keys", () => {
    const config = write("config-default", "[default]\naws_access_key_id = AKIDDEF\naws_secret_access_key = x\n");
    expect(plan({ ...irsa(), AWS_CONFIG_FILE: config }).leaf.kind).toBe("web-identity");
  });

  test("a profile's role_arn beats web identity from the environment (the CLI; the Go SDK differs)", () => {
    const config = write("config-role", "[profile r]\nrole_arn = arn:aws:iam::123456789012:role/r\ncredential_source = Ec2InstanceMetadata\n");
    const p = plan({ ...irsa(), AWS_PROFILE: "r", AWS_CONFIG_FILE: config, AWS_EC2_METADATA_DISABLED: "" });
    expect(p.leaf.kind).toBe("instance-metadata");
    expect(p.roles.map((r) => r.roleArn)).toEqual(["arn:aws:iam::123456789012:role/r"]);
  });

  test("environment keys beat AWS_PROFILE; a registry's profile (like --profile) beats them", () => {
    const creds = write("creds-prod", "[prod]\naws_access_key_id = AKIDPROD\naws_secret_access_key = x\n");
    expect(plan({ ...keys("AKIDENV"), AWS_PROFILE: "prod", AWS_SHARED_CREDENTIALS_FILE: creds }).leaf.kind).toBe("environment");
    expect(plan({ ...keys("AKIDENV"), AWS_SHARED_CREDENTIALS_FILE: creds }, { profile: "prod" }).leaf).toEqual({
      kind: "file-keys",
      profile: "prod",
      file: "credentials",
    });
  });

  test("SSO, credentials-file keys, credential_process, config-file keys: in that order", () => {
    const config = write(
      "config-order",
      "[profile p]\ncredential_process = /bin/true\naws_access_key_id = AKIDCFG\naws_secret_access_key = x\n",
    );
    const creds = write("creds-order", "[p]\naws_access_key_id = AKIDCRED\naws_secret_access_key = x\n");
    expect(plan({ AWS_PROFILE: "p", AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: creds }).leaf).toMatchObject({ file: "credentials" });
    expect(plan({ AWS_PROFILE: "p", AWS_CONFIG_FILE: config }).leaf.kind).toBe("process");
    const cfgOnly = write("config-order2", "[profile p]\naws_access_key_id = AKIDCFG\naws_secret_access_key = x\n");
    expect(plan({ AWS_PROFILE: "p", AWS_CONFIG_FILE: cfgOnly }).leaf).toMatchObject({ file: "config" });
  });

  test("clear errors: missing profile, half a key pair, a role without a source, a loop, MFA, nothing at all", () => {
    const config = write(
      "config-bad",
      "[profile nosrc]\nrole_arn = arn:aws:iam::123456789012:role/x\n" +
        "[profile loop1]\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = loop2\n" +
        "[profile loop2]\nrole_arn = arn:aws:iam::123456789012:role/y\nsource_profile = loop1\n" +
        "[profile mfa]\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = loop1\nmfa_serial = arn:aws:iam::123456789012:mfa/u\n",
    );
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ AWS_PROFILE: "nope" }, /^the AWS profile "nope" \(from AWS_PROFILE\) is in neither /],
      [{ AWS_DEFAULT_PROFILE: "nope" }, /\(from AWS_DEFAULT_PROFILE\)/],
      [{ AWS_ACCESS_KEY_ID: "AKIDHALF" }, /^AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not$/],
      [{ AWS_PROFILE: "nosrc", AWS_CONFIG_FILE: config }, /neither source_profile nor credential_source/],
      [{ AWS_PROFILE: "loop1", AWS_CONFIG_FILE: config }, /leads back to a profile already in the chain/],
      [{ AWS_PROFILE: "mfa", AWS_CONFIG_FILE: config }, /needs an MFA code/],
      [{}, /^no AWS credentials found/],
    ];
    for (const [env, message] of cases) {
      let error: unknown = null;
      try {
        plan(env);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ProviderError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain("AWS ECR");
    }
  });

  test("pod mode: the pod's role; without one, the node's plan (not pod, so the node's cache entry)", () => {
    const token = serviceAccountToken("ns", "sa", "uid");
    const pod = plan(keys("AKIDNODE"), {}, { token, annotations: { "eks.amazonaws.com/ecr-role-arn": ROLE } });
    expect(pod).toMatchObject({ pod: true, leaf: { kind: "pod", roleArn: ROLE } });
    const node = plan(keys("AKIDNODE"));
    const roleless = plan(keys("AKIDNODE"), {}, { token, annotations: {} });
    expect(roleless.pod).toBe(false);
    expect(roleless.key).toBe(node.key);
    const fromEnv = plan({ ...keys("AKIDNODE"), AWS_ECR_ROLE_ARN: ROLE }, {}, { token, annotations: {} });
    expect(fromEnv).toMatchObject({ pod: true, leaf: { kind: "pod", roleArn: ROLE } });
    expect(() => plan({}, {}, { token, annotations: { "eks.amazonaws.com/ecr-role-arn": "pull" } })).toThrow(/is not an IAM role ARN/);
  });
});

describe("shared files, read as the CLI reads them", () => {
  test("sections, lower-cased keys, comments, continuation lines, quoted profile names", () => {
    const ini = parseIni("# c\n[default]\nRegion = eu-west-1\n; x\ns3 =\n  max_concurrent_requests = 2\n[profile \"a b\"]\nk: v\n", "f");
    expect(ini.get("default")).toEqual({ region: "eu-west-1", s3: "\nmax_concurrent_requests = 2" });
    const config = write("config-quoted", "[profile \"a b\"]\nk = v\n[profile c d]\nk = w\n[sso-session s]\nsso_start_url = u\n[other]\nk = z\n");
    const files = readSharedFiles({ AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: path("none"), HOME: dir });
    expect([...files.config.keys()]).toEqual(["a b"]);
    expect([...files.ssoSessions.keys()]).toEqual(["s"]);
  });
  test("a repeated section or key, or a line that is neither, is an error naming the file and line", () => {
    expect(() => parseIni("[a]\nk = 1\n[a]\n", "f")).toThrow("f line 3: the section [a] appears twice");
    expect(() => parseIni("[a]\nk = 1\nK = 2\n", "f")).toThrow("f line 3: the key k appears twice in its section");
    expect(() => parseIni("k = 1\n", "f")).toThrow("f line 1: expected [section] or key = value");
  });
});
