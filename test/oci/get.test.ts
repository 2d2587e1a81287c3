// docker-credential-oci `get` against a fake OCIR token endpoint that verifies
// the OCI signature, signed with a test API key from an OCI configuration file.

import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TokenCache } from "../../src/cache.ts";
import { requireDist, runHelper } from "../support/env.ts";
import { apiKeyProfile, makeApiKey, mintJwt, writeOciConfig } from "./fakes.ts";
import { credentialOf, NOT_FOUND, setupOci, type OciTest } from "./setup.ts";

requireDist();

let o: OciTest;
afterEach(async () => {
  await o.cleanup();
});

describe("docker-credential-oci get (API key, session token, resource principal)", () => {
  test("round trip: one signed request, BEARER_TOKEN and the token; then a cache hit makes no call", async () => {
    o = setupOci();
    const first = credentialOf(await o.get("iad.ocir.io"));
    expect(first).toEqual({ ServerURL: "iad.ocir.io", Username: "BEARER_TOKEN", Secret: o.ocir.issued[0]! });
    expect(o.ocir.calls).toEqual([{ keyId: o.key.keyId, verified: true, reason: "" }]);

    // Every shape docker and podman send maps to the same cached token.
    for (const form of ["iad.ocir.io", "https://iad.ocir.io", "https://iad.ocir.io/v2/", "IAD.OCIR.IO"]) {
      expect(credentialOf(await o.get(form)).Secret).toBe(first.Secret);
    }
    expect(o.ocir.calls).toHaveLength(1);
    const list = await runHelper("oci", ["list"], "unused", o.t.env);
    expect(JSON.parse(list.stdout)).toEqual({ "iad.ocir.io": "BEARER_TOKEN" });
  });

  test("the lifetime comes from expires_in, and an expired token is never served", async () => {
    o = setupOci();
    o.ocir.expiresIn = 7200;
    const before = Date.now();
    const first = credentialOf(await o.get("iad.ocir.io"));
    const cache = new TokenCache(o.t.cacheDir);
    const [entry] = cache.entries();
    expect(entry!.secret).toBe(first.Secret);
    expect(entry!.expiresAt).toBeGreaterThanOrEqual(before + 7200_000);
    expect(entry!.expiresAt).toBeLessThanOrEqual(Date.now() + 7200_000);

    // The cached token has expired: a new one is fetched, the old one is not served.
    cache.write({ ...entry!, issuedAt: Date.now() - 7200_000, expiresAt: Date.now() - 1000 });
    const second = credentialOf(await o.get("iad.ocir.io"));
    expect(second.Secret).toBe(o.ocir.issued[1]!);
    expect(second.Secret).not.toBe(first.Secret);
    expect(o.ocir.calls).toHaveLength(2);
  });

  test("a token shorter-lived than the safety margin is handed out but not cached", async () => {
    o = setupOci();
    o.ocir.expiresIn = 8;
    const a = credentialOf(await o.get("iad.ocir.io"));
    const b = credentialOf(await o.get("iad.ocir.io"));
    expect(a.Secret).not.toBe(b.Secret);
    expect(o.ocir.calls).toHaveLength(2);
  });

  test("OCI_CONFIG_FILE wins over an existing ~/.oci/config, and OCI_CLI_PROFILE picks the profile", async () => {
    o = setupOci();
    // ~/.oci/config holds an untrusted key: the SDK's own lookup would pick it.
    const stranger = makeApiKey(join(o.t.dir, "stranger"), "ocid1.user.oc1..aaaastranger");
    writeOciConfig(o.ociConfig, { DEFAULT: apiKeyProfile(stranger) });
    const other = join(o.t.dir, "other-config");
    writeOciConfig(other, { DEFAULT: apiKeyProfile(stranger), PULL: apiKeyProfile(o.key) });
    const r = await o.get("iad.ocir.io", { OCI_CONFIG_FILE: other, OCI_CLI_PROFILE: "PULL" });
    expect(credentialOf(r).Secret).toBe(o.ocir.issued[0]!);
    expect(o.ocir.calls).toEqual([{ keyId: o.key.keyId, verified: true, reason: "" }]);
  });

  test("configFile and profile per registry; an explicit profile that is missing is an error", async () => {
    o = setupOci();
    const file = join(o.t.dir, "pull-config");
    writeOciConfig(file, { DEFAULT: { region: "us-ashburn-1" }, ROBOT: apiKeyProfile(o.key) });
    writeOciConfig(o.ociConfig, { DEFAULT: { region: "us-ashburn-1" } });
    o.configure({ "iad.ocir.io": { auth: "api_key", configFile: file, profile: "ROBOT" }, "fra.ocir.io": { profile: "NOPE" } });
    expect(credentialOf(await o.get("iad.ocir.io")).Secret).toBe(o.ocir.issued[0]!);
    const missing = await o.get("fra.ocir.io");
    expect(missing.exitCode).toBe(1);
    expect(missing.stdout).toBe(`Oracle Cloud Infrastructure Registry: ${o.ociConfig} has no profile [NOPE]\n`);
    expect(o.ocir.calls).toHaveLength(1);
  });

  test("a bad signature is refused with a clear one-line 401 message", async () => {
    o = setupOci();
    // Same user and fingerprint, another private key: the fake's verification fails.
    const wrong = makeApiKey(join(o.t.dir, "wrong"));
    writeOciConfig(o.ociConfig, { DEFAULT: { ...apiKeyProfile(o.key), key_file: wrong.keyFile } });
    const r = await o.get("iad.ocir.io");
    expect(r.exitCode).toBe(1);
    expect(o.ocir.calls).toEqual([{ keyId: o.key.keyId, verified: false, reason: "does not verify" }]);
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
    expect(r.stdout).toContain("iad.ocir.io refused the signature of the API key of profile [DEFAULT]");
    expect(r.stdout).toContain("(HTTP 401)");
    expect(r.stdout).toContain("fingerprint");
    expect(r.stderr).toBe("");
  });

  test("an unreadable or broken key file is named, and nothing is sent", async () => {
    o = setupOci();
    writeFileSync(o.key.keyFile, "not a key\n");
    const broken = await o.get("iad.ocir.io");
    expect(broken.stdout).toStartWith(
      "Oracle Cloud Infrastructure Registry: cannot sign the token request with the API key of profile [DEFAULT]",
    );
    rmSync(o.key.keyFile);
    const missing = await o.get("iad.ocir.io");
    expect(missing.stdout).toBe(
      `Oracle Cloud Infrastructure Registry: cannot read key_file ${o.key.keyFile} of profile [DEFAULT] in ${o.ociConfig}\n`,
    );
    expect(o.ocir.calls).toEqual([]);
  });

  test("an identity without a policy gets a 403 message about policies", async () => {
    o = setupOci();
    o.ocir.mode = { kind: "fail", status: 403, body: JSON.stringify({ code: "NotAuthorizedOrNotFound", message: "denied" }) };
    const r = await o.get("iad.ocir.io");
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain("is not allowed to pull from iad.ocir.io (HTTP 403) (OCIR said: NotAuthorizedOrNotFound: denied)");
    expect(r.stdout).toContain("policy");
  });

  test("the HTTP status and the body are checked, not trusted", async () => {
    o = setupOci();
    const cases: Array<[number, string, string]> = [
      [200, "<html>maintenance</html>", "unusable token answer (not valid JSON)"],
      [200, JSON.stringify({ token: "", expires_in: 3600 }), "unusable token answer (no token)"],
      [200, JSON.stringify({ token: "abcdefgh" }), "unusable token answer (no positive expires_in)"],
      [500, "oops", "answered HTTP 500"],
      [429, "{}", "rate limiting"],
    ];
    for (const [status, body, message] of cases) {
      o.ocir.mode = { kind: "fail", status, body };
      const r = await o.get("iad.ocir.io");
      expect(r.exitCode).toBe(1);
      expect(r.stdout).toContain(message);
      expect(r.stdout).not.toContain("abcdefgh");
    }
    expect(new TokenCache(o.t.cacheDir).entries()).toEqual([]);
  });

  test("spoofed hosts get not-found and cause no signed request", async () => {
    o = setupOci();
    const spoofed = [
      "iad.ocir.io.evil.com",
      "xocir.io",
      "evilocir.io",
      "iad.xocir.io",
      "https://iad.ocir.io@evil.com",
      "https://evil.com@iad.ocir.io",
      "ocir.us-ashburn-1.oci.evil.com",
      "ocir.us-ashburn-1.oci.oraclecloud.com.evil.com",
      "ocir.us-langley-1.oci.oraclecloud.com",
      "us-langley-1.ocir.io",
      "nosuchregion.ocir.io",
      "a.b.ocir.io",
      "evil.com/iad.ocir.io",
    ];
    // Even with a token endpoint configured for them, nothing is signed or sent.
    o.configure(Object.fromEntries(spoofed.filter((h) => !h.includes("@") && !h.includes("/")).map((h) => [h, {}])));
    for (const host of spoofed) {
      const r = await o.get(host);
      expect({ host, stdout: r.stdout, exitCode: r.exitCode }).toEqual({ host, stdout: NOT_FOUND, exitCode: 1 });
    }
    expect(o.ocir.calls).toEqual([]);
  });

  test("a hanging token endpoint ends within CCH_TIMEOUT with a message naming it", async () => {
    o = setupOci({ env: { CCH_TIMEOUT: "2" } });
    o.ocir.mode = { kind: "hang" };
    const r = await o.get("iad.ocir.io");
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/did not answer within|no answer within/);
    expect(r.stdout).toContain("Oracle Cloud Infrastructure Registry");
    expect(o.ocir.calls).toHaveLength(1);
  });

  test("secrets stay out of stdout errors, stderr, the debug log and the working directory", async () => {
    o = setupOci();
    const cwd = mkdtempSync(join(tmpdir(), "cch-oci-cwd-"));
    // The debug log goes to stderr, or to the CCH_LOG file when the environment names one.
    const log = join(o.t.dir, "debug.log");
    const debug = { CCH_DEBUG: "1", CCH_LOG: log };
    try {
      const ok = await o.get("iad.ocir.io", { ...debug, CCH_DISABLE_CACHE: "1" }, cwd);
      const token = credentialOf(ok).Secret;
      o.ocir.mode = { kind: "fail", status: 401, body: "{}" };
      const bad = await o.get("iad.ocir.io", debug, cwd);
      const seen = [ok.stderr, bad.stdout, bad.stderr, readFileSync(log, "utf8")].join("\n");
      expect(seen).toContain("asking");
      expect(seen).not.toContain(token);
      expect(seen).not.toContain("PRIVATE KEY");
      expect(seen).not.toContain("Signature");
      // The seed provider wrote the token to a log file in the kubelet's working directory.
      expect(readdirSync(cwd)).toEqual([]);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  test("a session-token profile signs with ST$<token> and the profile's key", async () => {
    o = setupOci();
    const tokenFile = join(o.t.dir, "keys", "token");
    writeFileSync(tokenFile, "session-token-value\n");
    const { user: _user, ...session } = apiKeyProfile(o.key);
    writeOciConfig(o.ociConfig, { DEFAULT: { ...session, security_token_file: tokenFile } });
    o.ocir.trust("ST$session-token-value", o.key.publicKey);
    expect(credentialOf(await o.get("iad.ocir.io")).Secret).toBe(o.ocir.issued[0]!);
    expect(o.ocir.calls).toEqual([{ keyId: "ST$session-token-value", verified: true, reason: "" }]);
  });

  test("resource principal (OCI_RESOURCE_PRINCIPAL_* v2.2) is found automatically and signs with ST$<rpst>", async () => {
    o = setupOci({ withConfig: false });
    o.configure({ "iad.ocir.io": {}, "fra.ocir.io": {} });
    const rpst = mintJwt({ sub: "ocid1.fnfunc.oc1..test", exp: Math.floor(Date.now() / 1000) + 3600 });
    o.ocir.trust(`ST$${rpst}`, o.key.publicKey);
    const env = {
      OCI_RESOURCE_PRINCIPAL_VERSION: "2.2",
      OCI_RESOURCE_PRINCIPAL_RPST: rpst,
      OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM: o.key.keyFile,
      OCI_RESOURCE_PRINCIPAL_REGION: "us-ashburn-1",
    };
    expect(credentialOf(await o.get("iad.ocir.io", env)).Secret).toBe(o.ocir.issued[0]!);
    expect(o.ocir.calls).toEqual([{ keyId: `ST$${rpst}`, verified: true, reason: "" }]);
    // Half-configured: never picked; the one line names the missing variable.
    const { OCI_RESOURCE_PRINCIPAL_RPST: _, ...partial } = env;
    const r = await o.get("fra.ocir.io", partial);
    expect(r.exitCode).toBe(1);
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
    expect(r.stdout).toContain("resource principal (version 2.2 lacks OCI_RESOURCE_PRINCIPAL_RPST)");
    expect(o.ocir.calls).toHaveLength(1);
  });

  test("OKE workload identity outside a cluster: one line naming what is missing, nothing sent", async () => {
    o = setupOci();
    o.configure({ "iad.ocir.io": { auth: "oke_workload_identity" } });
    const r = await o.get("iad.ocir.io");
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toStartWith("Oracle Cloud Infrastructure Registry: OKE workload identity: KUBERNETES_SERVICE_HOST is not set");
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
    // The proxymux on port 12250 of KUBERNETES_SERVICE_HOST, trusted through the cluster CA: none here.
    const noCa = await o.get("iad.ocir.io", { KUBERNETES_SERVICE_HOST: "127.0.0.1", OCI_KUBERNETES_SERVICE_ACCOUNT_CERT_PATH: "/nonexistent/ca.crt" });
    expect(noCa.stdout).toStartWith("Oracle Cloud Infrastructure Registry: OKE workload identity: cannot read the cluster CA /nonexistent/ca.crt");
    expect(o.ocir.calls).toEqual([]);
  });

  test("no identity at all: one line saying which identities were tried", async () => {
    o = setupOci({ withConfig: false });
    const r = await o.get("iad.ocir.io");
    expect(r.exitCode).toBe(1);
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
    for (const part of [
      "no OCI identity found",
      "API key",
      "session token",
      "resource principal",
      "OKE workload identity",
      "instance principal",
    ]) {
      expect(r.stdout).toContain(part);
    }
    expect(o.ocir.calls).toEqual([]);
  });

  test("a bad setting is a configuration error, not a silent fallback", async () => {
    o = setupOci();
    o.configure({
      "iad.ocir.io": { auth: "password" },
      "fra.ocir.io": { tokenEndpoint: "http://example.com" },
      "phx.ocir.io": { colour: "red" },
    });
    expect((await o.get("iad.ocir.io")).stdout).toContain('unknown auth "password"');
    expect((await o.get("fra.ocir.io")).stdout).toContain("must be an https URL, or http to 127.0.0.1");
    expect((await o.get("phx.ocir.io")).stdout).toContain('unknown setting "colour"');
    expect(o.ocir.calls).toEqual([]);
  });
});
