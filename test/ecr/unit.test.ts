// The ECR provider's pure parts: token decoding, caller identity, settings,
// error messages, endpoint variants, upstream variables, and the rule that
// the module a cache hit loads never reaches the SDK.

import { describe, expect, test } from "bun:test";
import { cacheDisabled, resolvePaths, storeIgnored } from "../../src/paths.ts";
import { dirname, join, resolve } from "node:path";
import { ProviderError, type Context } from "../../src/provider.ts";
import { provider } from "../../src/providers/ecr.ts";
import { describeFailure } from "../../src/providers/ecr/errors.ts";
import { endpointOptions, hasEndpointOverride } from "../../src/providers/ecr/fetch.ts";
import type { EcrTarget } from "../../src/providers/ecr/hosts.ts";
import { readSettings } from "../../src/providers/ecr/settings.ts";
import { decodeAuthorizationToken, parseAuthorizationToken } from "../../src/providers/ecr/authorization-token.ts";

const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("decodeAuthorizationToken", () => {
  test("splits on the first ':' only", () => {
    expect(decodeAuthorizationToken(b64("AWS:abc:def=="))).toEqual({ username: "AWS", password: "abc:def==" });
  });
  test.each([
    ["not base64", "%%%", "is not base64"],
    ["truncated base64", "QUJDR", "is not base64"],
    ["no colon", b64("AWSpassword"), "has no ':'"],
    ["empty user", b64(":password"), "empty user name"],
    ["empty password", b64("AWS:"), "empty password"],
    ["identity-token username", b64("<token>:x"), "reserved user"],
  ])("says why it refuses %s, without quoting it", (_, token, reason) => {
    const d = parseAuthorizationToken(token);
    expect(d.ok).toBe(false);
    if (!d.ok) {
      expect(d.reason).toContain(reason);
      expect(d.reason).not.toContain(token);
    }
  });
  test.each([
    ["not base64", "%%%"],
    ["no colon", b64("AWSpassword")],
    ["empty user", b64(":password")],
    ["empty password", b64("AWS:")],
    ["identity-token username", b64("<token>:x")],
    ["empty", ""],
  ])("refuses %s", (_, token) => expect(decodeAuthorizationToken(token)).toBeNull());
});

describe("readSettings", () => {
  test("accepts a profile and a role ARN", () => {
    expect(readSettings({ profile: "prod", roleArn: "arn:aws-cn:iam::123456789012:role/a/b" }, "r")).toEqual({
      profile: "prod",
      roleArn: "arn:aws-cn:iam::123456789012:role/a/b",
    });
    expect(readSettings({ alias: "x" }, "r")).toEqual({});
  });
  test.each([
    [{ profile: "" }],
    [{ profile: 3 }],
    [{ profile: "has space" }],
    [{ roleArn: "role/x" }],
    [{ roleArn: "arn:aws:iam::12:role/x" }],
    [{ roleArn: ["arn:aws:iam::123456789012:role/x"] }],
  ])("refuses a bad setting with a ProviderError", (settings) => {
    expect(() => readSettings(settings, "r.example")).toThrow(ProviderError);
  });
  test("the provider declares its keys", () => expect(provider.manifest.settingsKeys).toEqual(["profile", "roleArn"]));
});

describe("describeFailure", () => {
  const f = { target: "ECR account 1 in x", source: "the environment", timeoutSeconds: 5, aborted: false };
  const sdkError = (name: string, message: string, extra: object = {}) => Object.assign(new Error(message), { name, ...extra });

  test("one line, names target and source", () => {
    const e = describeFailure(sdkError("AccessDeniedException", "not\nauthorized", { $metadata: { httpStatusCode: 400 } }), f);
    expect(e).toBeInstanceOf(ProviderError);
    expect(e.message).toBe(
      "ECR account 1 in x refused the credentials from the environment: AccessDeniedException: not authorized",
    );
  });
  test("the deadline", () => {
    expect(describeFailure(sdkError("AbortError", "aborted"), f).message).toContain("within 5s (deadline reached");
    expect(describeFailure(new Error("whatever"), { ...f, aborted: true }).message).toContain("deadline reached");
  });
  test("no credentials, network, server errors", () => {
    expect(describeFailure(sdkError("CredentialsProviderError", "Could not load credentials"), f).message).toBe(
      "no usable AWS credentials for ECR account 1 in x: tried the environment: Could not load credentials",
    );
    expect(
      describeFailure(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED", $metadata: { attempts: 3 } }), f)
        .message,
    ).toBe("could not reach the ECR API for ECR account 1 in x after 3 attempts: ECONNREFUSED");
    expect(
      describeFailure(sdkError("ServerException", "boom", { $metadata: { httpStatusCode: 500, attempts: 3 } }), f).message,
    ).toBe("GetAuthorizationToken for ECR account 1 in x failed after 3 attempts: HTTP 500 ServerException: boom");
  });
  test("a refusal while getting credentials is STS's, not ECR's", () => {
    const err = sdkError("AccessDenied", "not allowed", { $metadata: { httpStatusCode: 403 } });
    expect(describeFailure(err, { ...f, phase: "credentials" }).message).toBe(
      "could not get credentials for ECR account 1 in x: STS refused the environment: AccessDenied: not allowed",
    );
  });
  test("long messages are cut short", () => {
    expect(describeFailure(sdkError("X", "y".repeat(1000)), f).message.length).toBeLessThan(300);
  });
  test("a ProviderError passes through", () => {
    const e = new ProviderError("AWS ECR: as is");
    expect(describeFailure(e, f)).toBe(e);
  });
});

describe("endpoints", () => {
  const fips: Extract<EcrTarget, { kind: "private" }> = {
    kind: "private",
    account: "1",
    region: "us-east-1",
    fips: true,
    dualStack: false,
  };
  const dual: Extract<EcrTarget, { kind: "private" }> = {
    kind: "private",
    account: "1",
    region: "us-west-2",
    fips: false,
    dualStack: true,
  };

  test("FIPS and dual-stack hosts ask for those endpoints, unless an endpoint URL is configured", () => {
    expect(endpointOptions(fips, {})).toEqual({ useFipsEndpoint: true, useDualstackEndpoint: false });
    expect(endpointOptions(dual, {})).toEqual({ useFipsEndpoint: false, useDualstackEndpoint: true });
    expect(endpointOptions(fips, { AWS_ENDPOINT_URL_ECR: "http://127.0.0.1:1" })).toEqual({
      useFipsEndpoint: false,
      useDualstackEndpoint: false,
    });
    expect(hasEndpointOverride({ AWS_ENDPOINT_URL: "http://x" }, "ECR_PUBLIC")).toBe(true);
    expect(hasEndpointOverride({ AWS_ENDPOINT_URL: "http://x", AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: "true" }, "ECR")).toBe(false);
  });

  test("the SDK then sends FIPS and dual-stack calls to the right hosts", async () => {
    const { ECRClient, GetAuthorizationTokenCommand } = await import("@aws-sdk/client-ecr");
    const hostFor = async (details: Extract<EcrTarget, { kind: "private" }>) => {
      let hostname = "";
      const client = new ECRClient({
        region: details.region,
        credentials: { accessKeyId: "AKIDUNIT", secretAccessKey: "unit" },
        maxAttempts: 1,
        // Records where the request would go, and sends nothing.
        requestHandler: {
          handle: async (req: { hostname: string }) => {
            hostname = req.hostname;
            throw new Error("not sent");
          },
        } as never,
        ...endpointOptions(details, {}),
      });
      await client.send(new GetAuthorizationTokenCommand({})).catch(() => {});
      return hostname;
    };
    expect(await hostFor(fips)).toMatch(/(^|\.)ecr-fips\.us-east-1\.amazonaws\.com$/);
    expect(await hostFor(dual)).toMatch(/(^|\.)ecr\.us-west-2\.api\.aws$/);
  });
});

describe("upstream environment variables", () => {
  const m = provider.manifest;
  test("AWS_ECR_CACHE_DIR (with ~); AWS_ECR_DISABLE_CACHE: any non-empty value, as upstream", () => {
    expect(resolvePaths({ AWS_ECR_CACHE_DIR: "~/ecr", HOME: "/home/u" }, m).cacheDir).toBe("/home/u/ecr");
    expect(resolvePaths({ AWS_ECR_CACHE_DIR: "/var/cache/ecr" }, m).cacheDir).toBe("/var/cache/ecr");
    expect(resolvePaths({ AWS_ECR_CACHE_DIR: "/var/cache/ecr", CCH_CACHE_DIR: "/c" }, m).cacheDir).toBe("/c");
    for (const v of ["true", "TRUE", "1", "yes", "false", "0"]) expect(cacheDisabled({ AWS_ECR_DISABLE_CACHE: v }, m)).toBe(true);
    expect(cacheDisabled({ AWS_ECR_DISABLE_CACHE: "" }, m)).toBe(false);
    expect(cacheDisabled({}, m)).toBe(false);
  });
  test("AWS_ECR_IGNORE_CREDS_STORAGE", () => {
    expect(storeIgnored({ AWS_ECR_IGNORE_CREDS_STORAGE: "true" }, m)).toBe(true);
    expect(storeIgnored({ AWS_ECR_IGNORE_CREDS_STORAGE: "false" }, m)).toBe(false);
    expect(storeIgnored({}, m)).toBe(false);
  });
  test("ECR Public failures are not-found; private ones are errors", () => {
    const t = (details: EcrTarget) => ({ host: { key: "h", hostname: "h", port: null }, registry: "h", settings: {}, details });
    const plan = (details: EcrTarget) =>
      provider.plan(t(details), { env: { AWS_ACCESS_KEY_ID: "AKID", AWS_SECRET_ACCESS_KEY: "s" } } as unknown as Context);
    expect(plan({ kind: "public", region: "us-east-1" }).anonymousOnFailure).toBe(true);
    expect(plan({ kind: "private", account: "1", region: "r", fips: false, dualStack: false }).anonymousOnFailure).toBe(false);
  });
});

test("the module a cache hit loads reaches no AWS SDK (static imports only)", async () => {
  const transpiler = new Bun.Transpiler({ loader: "ts" });
  const seen = new Set<string>();
  const visit = async (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const imp of transpiler.scanImports(await Bun.file(file).text())) {
      if (imp.kind === "dynamic-import") continue;
      expect({ file, path: imp.path }).not.toEqual({ file, path: expect.stringMatching(/^@aws-sdk|^@smithy/) });
      if (imp.path.startsWith(".")) await visit(resolve(dirname(file), imp.path));
    }
  };
  await visit(join(import.meta.dir, "../../src/providers/ecr.ts"));
  expect(seen.size).toBeGreaterThan(2);
});
