// Choosing the identity, cheaply and without the SDK: the automatic order,
// OCI_CONFIG_FILE / OCI_CLI_PROFILE, per-registry settings, and the short
// stable identity string that keys the cache.

import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ProviderError } from "../../src/provider.ts";
import { parseOciConfig, profileSettings } from "../../src/providers/oci/config-file.ts";
import { choosePlan, describePlan } from "../../src/providers/oci/plan.ts";
import { checkEndpoint, kubernetesCaFile, proxymuxUrl, readSettings } from "../../src/providers/oci/settings.ts";

const SA_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";
import { parseProxymuxBody } from "../../src/providers/oci/oke.ts";
import { parseTokenBody } from "../../src/providers/oci/registry-token.ts";

const dir = mkdtempSync(join(tmpdir(), "cch-oci-identity-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const home = join(dir, "home");
mkdirSync(join(home, ".oci"), { recursive: true });
const profile = (user: string, extra = "") =>
  `user=${user}\nfingerprint=aa:bb\ntenancy=ocid1.tenancy.oc1..t\nregion=us-ashburn-1\nkey_file=~/.oci/key.pem\n${extra}`;
writeFileSync(join(home, ".oci", "config"), `[DEFAULT]\n${profile("ocid1.user.oc1..home")}`);
const other = join(dir, "other");
writeFileSync(other, `# comment\n[DEFAULT]\n${profile("ocid1.user.oc1..other")}\n[SESSION]\nsecurity_token_file=/t\n`);

const RP22 = {
  OCI_RESOURCE_PRINCIPAL_VERSION: "2.2",
  OCI_RESOURCE_PRINCIPAL_REGION: "us-phoenix-1",
  OCI_RESOURCE_PRINCIPAL_RPST: "/rp/rpst",
  OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM: "/rp/key.pem",
};
const plan = (settings: Record<string, string>, env: Record<string, string>) =>
  choosePlan(readSettings(settings, env), { HOME: home, ...env });
const id = (settings: Record<string, string>, env: Record<string, string>) =>
  describePlan(plan(settings, env), { HOME: home, ...env });

describe("automatic order", () => {
  test("the API key in ~/.oci/config first", () => {
    expect(id({}, {})).toBe(`api_key:${home}/.oci/config[DEFAULT]:ocid1.user.oc1..home:aa:bb`);
  });

  test("OCI_CONFIG_FILE beats an existing ~/.oci/config; OCI_CLI_PROFILE picks the profile", () => {
    expect(id({}, { OCI_CONFIG_FILE: other })).toBe(`api_key:${other}[DEFAULT]:ocid1.user.oc1..other:aa:bb`);
    // [SESSION] inherits user and key from [DEFAULT], and is a session-token profile.
    expect(id({}, { OCI_CONFIG_FILE: other, OCI_CLI_PROFILE: "SESSION" })).toStartWith(
      `session_token:${other}[SESSION]:ocid1.tenancy.oc1..t:`,
    );
  });

  test("then resource principal, OKE workload identity, instance principal", () => {
    const none = { HOME: join(dir, "nohome") };
    expect(id({}, { ...none, ...RP22 })).toMatch(/^resource_principal:us-phoenix-1:[0-9a-f]{12}$/);
    const proxymux = { KUBERNETES_SERVICE_HOST: "10.0.0.1", KUBERNETES_SERVICE_PORT_PROXYMUX: "12250" };
    const mounted = { CCH_OCI_SERVICE_ACCOUNT_TOKEN_FILE: other };
    expect(plan({}, { ...none, ...proxymux, ...mounted }).kind).toBe("oke_workload_identity");
    expect(plan({}, { ...none, CCH_OCI_PROXYMUX_URL: "https://10.0.0.1:12250", ...mounted }).kind).toBe("oke_workload_identity");
    // A node whose kubelet configuration names the proxymux (for pods' tokens) has no token of its own.
    const node = plan({}, { ...none, ...proxymux, CCH_OCI_SERVICE_ACCOUNT_TOKEN_FILE: join(dir, "absent") });
    expect(node.kind).toBe("instance_principal");
    expect(node.kind === "instance_principal" && node.tried[2]).toBe(
      `OKE workload identity (lacks a service account token at ${join(dir, "absent")})`,
    );
    const last = plan({}, none);
    expect(last.kind).toBe("instance_principal");
    expect(last.kind === "instance_principal" && last.tried.length).toBe(2);
    expect(id({}, none)).toBe("instance_principal");
    expect(id({}, { ...none, CCH_OCI_METADATA_URL: "http://127.0.0.1:1/opc/v2" })).toBe(
      "instance_principal:http://127.0.0.1:1/opc/v2/",
    );
  });

  test("a configuration file the user named must exist; a missing named profile is an error", () => {
    expect(() => plan({}, { OCI_CONFIG_FILE: join(dir, "nope") })).toThrow(/does not exist/);
    expect(() => plan({}, { OCI_CLI_PROFILE: "NOPE" })).toThrow(ProviderError);
    const partial = join(dir, "partial");
    writeFileSync(partial, "[ONLY]\nuser=ocid1.user.oc1..u\n");
    expect(() => plan({ profile: "ONLY", configFile: partial }, {})).toThrow(
      "profile [ONLY] of " + partial + " lacks tenancy, fingerprint, key_file",
    );
  });
});

describe("settings", () => {
  test("auth from the setting, then CCH_OCI_AUTH, then OCI_CLI_AUTH (security_token means session_token)", () => {
    expect(plan({ auth: "instance_principal" }, {}).kind).toBe("instance_principal");
    expect(() => plan({}, { CCH_OCI_AUTH: "resource_principal" })).toThrow(
      "auth is resource_principal but OCI_RESOURCE_PRINCIPAL_VERSION is not set",
    );
    expect(plan({}, { CCH_OCI_AUTH: "resource_principal", ...RP22 }).kind).toBe("resource_principal");
    expect(plan({}, { OCI_CLI_AUTH: "instance_principal" }).kind).toBe("instance_principal");
    expect(() => plan({}, { OCI_CLI_AUTH: "security_token" })).toThrow(/auth is session_token but profile \[DEFAULT\]/);
    expect(() => plan({ auth: "api_key", configFile: other, profile: "SESSION" }, {})).toThrow(/has security_token_file/);
    expect(() => readSettings({ auth: "root" }, {})).toThrow(/unknown auth "root"/);
    expect(() => readSettings({ profile: "" }, {})).toThrow(/non-empty string/);
  });

  test("tokenEndpoint: https anywhere, http only to loopback, nothing odd", () => {
    expect(checkEndpoint("https://proxy.example.com/ocir/", "x")).toBe("https://proxy.example.com/ocir");
    expect(checkEndpoint("http://127.0.0.1:5000", "x")).toBe("http://127.0.0.1:5000");
    expect(checkEndpoint("http://[::1]:5000/", "x")).toBe("http://[::1]:5000");
    for (const bad of [
      "http://example.com",
      "http://127.0.0.1.evil.com",
      "http://localhost:5000",
      "https://u:p@example.com",
      "https://x.com/?a=1",
      "ftp://127.0.0.1",
      "nonsense",
    ]) {
      expect(() => checkEndpoint(bad, "x")).toThrow(ProviderError);
    }
  });

  test("the configuration file parser follows the SDK: comments, [DEFAULT] fallback, errors without values", () => {
    const file = parseOciConfig("# c\n[DEFAULT]\na = 1\nb=2\n[P]\nb=3\n", "f");
    expect(Object.fromEntries(profileSettings(file, "P")!)).toEqual({ a: "1", b: "3" });
    expect(profileSettings(file, "Q")).toBeNull();
    expect(() => parseOciConfig("[DEFAULT]\n-----BEGIN RSA PRIVATE KEY-----\n", "f")).toThrow("f line 2: expected key=value");
    expect(() => parseOciConfig("a=1\n", "f")).toThrow(/before any \[PROFILE\]/);
  });
});

describe("token answer", () => {
  const now = new Date("2026-01-01T00:00:00Z");
  test("token and expires_in make the credential", () => {
    expect(
      parseTokenBody(JSON.stringify({ token: "tok", access_token: "tok", scope: "", expires_in: 3600 }), { registry: "r" }, now),
    ).toEqual({
      username: "BEARER_TOKEN",
      secret: "tok",
      expiresAt: new Date("2026-01-01T01:00:00Z"),
    });
    expect(parseTokenBody(JSON.stringify({ access_token: "a", expires_in: 60 }), { registry: "r" }, now).secret).toBe("a");
  });

  test("anything else is refused without echoing it", () => {
    for (const body of [
      "",
      "null",
      "[]",
      '{"token":"t"}',
      '{"token":"t","expires_in":-1}',
      '{"token":"t","expires_in":"3600"}',
      '{"token":"a b","expires_in":1}',
    ]) {
      expect(() => parseTokenBody(body, { registry: "r" }, now)).toThrow(/unusable token answer/);
    }
  });
});

describe("proxymux answer", () => {
  const now = new Date("2026-01-01T00:00:00Z");
  const jwt = (claims: object) =>
    ["{}", JSON.stringify(claims), "sig"].map((p) => Buffer.from(p).toString("base64url")).join(".");
  const body = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64");

  test('base64 of {"token":"ST$<rpst>"}, as oci-common decodes it', () => {
    const rpst = jwt({ exp: now.getTime() / 1000 + 600 });
    expect(parseProxymuxBody(body({ token: `ST$${rpst}` }), now)).toBe(rpst);
    expect(parseProxymuxBody(body({ token: `ST$${rpst}` }) + "\n", now)).toBe(rpst);
  });

  test("anything else, or an expired session token, is refused without echoing it", () => {
    const expired = jwt({ exp: now.getTime() / 1000 - 1 });
    for (const b of [
      "<html>",
      body({}),
      body({ token: "secret-without-prefix" }),
      body({ token: "ST$" }),
      body({ token: "ST$not.a-jwt" }),
      body({ token: `ST$${expired}` }),
    ]) {
      expect(() => parseProxymuxBody(b, now)).toThrow(/the OKE proxymux sent an unusable answer \([^)]*\)$/);
      try {
        parseProxymuxBody(b, now);
      } catch (err) {
        expect((err as Error).message).not.toContain("secret-without-prefix");
      }
    }
  });
});

describe("the OCI SDKs' environments: never a kind with incomplete variables, and the missing ones named", () => {
  const none = { HOME: join(dir, "nohome") };
  const token = { CCH_OCI_SERVICE_ACCOUNT_TOKEN_FILE: other };
  const tried = (env: Record<string, string>) => {
    const p = plan({}, { ...none, ...env });
    return p.kind === "instance_principal" ? p.tried.slice(1) : p.kind;
  };

  test("OKE workload identity as the Go and Python SDKs document it: version, region, KUBERNETES_SERVICE_HOST, port 12250", () => {
    for (const version of ["2.2", "1.1"]) {
      const env = { OCI_RESOURCE_PRINCIPAL_VERSION: version, OCI_RESOURCE_PRINCIPAL_REGION: "us-ashburn-1", KUBERNETES_SERVICE_HOST: "10.96.0.1", ...token };
      expect(plan({}, { ...none, ...env }).kind).toBe("oke_workload_identity");
      expect(proxymuxUrl(env)).toEqual({ ok: true, url: "https://10.96.0.1:12250" });
    }
    // oci-common for TypeScript names the port; it wins over the default.
    expect(proxymuxUrl({ KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT_PROXYMUX: "443" })).toEqual({
      ok: true,
      url: "https://[fd00::1]:443",
    });
    expect(kubernetesCaFile({ OCI_KUBERNETES_SERVICE_ACCOUNT_CERT_PATH: "/etc/oke/ca.crt" })).toBe("/etc/oke/ca.crt");
    expect(kubernetesCaFile({})).toBe("/var/run/secrets/kubernetes.io/serviceaccount/ca.crt");
  });

  test("incomplete environments are skipped, naming what they lack", () => {
    expect(tried({ OCI_RESOURCE_PRINCIPAL_VERSION: "2.2", KUBERNETES_SERVICE_HOST: "10.96.0.1", ...token })).toEqual([
      "resource principal (version 2.2 lacks OCI_RESOURCE_PRINCIPAL_RPST, OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM, OCI_RESOURCE_PRINCIPAL_REGION)",
      "OKE workload identity (lacks OCI_RESOURCE_PRINCIPAL_REGION)",
    ]);
    expect(tried({ OCI_RESOURCE_PRINCIPAL_VERSION: "1.1", OCI_RESOURCE_PRINCIPAL_REGION: "r" })).toEqual([
      "resource principal (version 1.1 lacks OCI_RESOURCE_PRINCIPAL_RPT_ENDPOINT)",
      `OKE workload identity (lacks KUBERNETES_SERVICE_HOST, a service account token at ${SA_TOKEN})`,
    ]);
    expect(tried({ OCI_RESOURCE_PRINCIPAL_VERSION: "3.0" })[0]).toBe(
      "resource principal (OCI_RESOURCE_PRINCIPAL_VERSION=3.0 is not supported (2.2 or 1.1))",
    );
    // Every pod has KUBERNETES_SERVICE_HOST: alone it is not workload identity.
    expect(tried({ KUBERNETES_SERVICE_HOST: "10.96.0.1", ...token })).toEqual([
      "resource principal and OKE workload identity (OCI_RESOURCE_PRINCIPAL_VERSION is not set)",
    ]);
  });

  test("resource principal 2.2 and 1.1 are picked when complete, before workload identity", () => {
    const oke = { OCI_RESOURCE_PRINCIPAL_REGION: "us-ashburn-1", KUBERNETES_SERVICE_HOST: "10.96.0.1", ...token };
    expect(plan({}, { ...none, ...oke, ...RP22 })).toEqual({ kind: "resource_principal", version: "2.2" });
    const v11 = { OCI_RESOURCE_PRINCIPAL_VERSION: "1.1", OCI_RESOURCE_PRINCIPAL_RPT_ENDPOINT: "https://rpt.example" };
    expect(plan({}, { ...none, ...v11 })).toEqual({ kind: "resource_principal", version: "1.1" });
    expect(id({}, { ...none, ...v11, OCI_RESOURCE_PRINCIPAL_RPT_ID: "ocid1.x" })).toBe(
      "resource_principal_1.1:https://rpt.example:ocid1.x:http://169.254.169.254/opc/v2/",
    );
  });
});

describe("the key names the principal, not only where it comes from", () => {
  const jwt = (claims: object) =>
    ["{}", JSON.stringify(claims), "sig"].map((p) => Buffer.from(p).toString("base64url")).join(".");
  const none = { HOME: join(dir, "nohome") };

  test("resource principal 2.2: two principals in one region never share; a rotated token of one does", () => {
    const write = (name: string, sub: string, n: number) => {
      const file = join(dir, name);
      writeFileSync(file, jwt({ sub, n }));
      return file;
    };
    const a1 = write("rpst-a1", "ocid1.fnfunc.oc1..a", 1);
    const a2 = write("rpst-a2", "ocid1.fnfunc.oc1..a", 2);
    const b = write("rpst-b", "ocid1.fnfunc.oc1..b", 1);
    const key = (rpst: string) => id({}, { ...none, ...RP22, OCI_RESOURCE_PRINCIPAL_RPST: rpst });
    expect(key(a1)).toBe(key(a2));
    expect(key(a1)).not.toBe(key(b));
    // The token given as the value itself, not a path, names the same principal.
    expect(key(jwt({ sub: "ocid1.fnfunc.oc1..a", n: 3 }))).toBe(key(a1));
    // Never the token in the key.
    expect(key(a1)).not.toContain(jwt({ sub: "ocid1.fnfunc.oc1..a", n: 1 }).split(".")[1]!);
  });

  test("session token: another user logged into the same profile gets another key", () => {
    const token = join(dir, "session-token");
    const config = join(dir, "session-config");
    writeFileSync(config, `[S]\ntenancy=ocid1.tenancy.oc1..t\nkey_file=/k\nfingerprint=aa\nregion=us-ashburn-1\nsecurity_token_file=${token}\n`);
    writeFileSync(token, jwt({ sub: "ocid1.user.oc1..alice" }));
    const alice = id({}, { ...none, OCI_CONFIG_FILE: config, OCI_CLI_PROFILE: "S" });
    writeFileSync(token, jwt({ sub: "ocid1.user.oc1..bob" }));
    const bob = id({}, { ...none, OCI_CONFIG_FILE: config, OCI_CLI_PROFILE: "S" });
    expect(alice).toStartWith(`session_token:${config}[S]:ocid1.tenancy.oc1..t:`);
    expect(alice).not.toBe(bob);
  });
});
