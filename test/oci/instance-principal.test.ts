// Instance principal through oci-common's builder, against a fake instance
// metadata service and a fake federation endpoint (wired in through
// CCH_OCI_METADATA_URL and CCH_OCI_FEDERATION_ENDPOINT, the builder's setters).

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { METADATA_PROBE_MS, onOci } from "../../src/providers/oci/platform.ts";
import { requireDist } from "../support/env.ts";
import {
  INSTANCE_ID,
  makeInstanceIdentity,
  startFakeFederation,
  startFakeResourcePrincipalService,
  startFakeMetadata,
  type FakeFederation,
  type FakeMetadata,
  type InstanceIdentity,
} from "./fakes.ts";
import { credentialOf, setupOci, type OciTest } from "./setup.ts";

requireDist();

let identity: InstanceIdentity;
let pki: string;
beforeAll(async () => {
  pki = mkdtempSync(join(tmpdir(), "cch-oci-pki-"));
  identity = await makeInstanceIdentity(pki);
});
afterAll(() => rmSync(pki, { recursive: true, force: true }));

let o: OciTest;
let metadata: FakeMetadata;
let federation: FakeFederation;

function setup(options: { withConfig?: boolean; timeout?: string; federationOverride?: boolean } = {}) {
  o = setupOci({ withConfig: options.withConfig ?? false, env: options.timeout ? { CCH_TIMEOUT: options.timeout } : {} });
  metadata = startFakeMetadata(identity);
  federation = startFakeFederation(o.ocir, identity.tenancy);
  const env: Record<string, string> = { CCH_OCI_METADATA_URL: metadata.url };
  if (options.federationOverride !== false) env.CCH_OCI_FEDERATION_ENDPOINT = federation.url;
  return env;
}

afterEach(async () => {
  await metadata.stop();
  await federation.stop();
  await o.cleanup();
});

describe("instance principal", () => {
  test("round trip: certificates from metadata, a federation token, one request signed as ST$<jwt>", async () => {
    const env = setup();
    const r = credentialOf(await o.get("iad.ocir.io", env));
    expect(r).toEqual({ ServerURL: "iad.ocir.io", Username: "BEARER_TOKEN", Secret: o.ocir.issued[0]! });
    expect(o.ocir.calls).toHaveLength(1);
    expect(o.ocir.calls[0]!.keyId).toStartWith("ST$");
    expect(o.ocir.calls[0]!.verified).toBe(true);
    expect(federation.calls).toBe(1);
    expect(metadata.counts.get("identity/cert.pem")).toBeGreaterThanOrEqual(1);

    // A cache hit asks nobody.
    expect(credentialOf(await o.get("iad.ocir.io", env)).Secret).toBe(r.Secret);
    expect([o.ocir.calls.length, federation.calls]).toEqual([1, 1]);
  });

  test("chosen in the configuration, it signs once, with itself only, although an API key exists", async () => {
    const env = setup({ withConfig: true });
    o.configure({ "iad.ocir.io": { auth: "instance_principal" } });
    credentialOf(await o.get("iad.ocir.io", env));
    expect(o.ocir.calls).toHaveLength(1);
    expect(o.ocir.calls[0]!.keyId).toStartWith("ST$");
    expect(o.ocir.calls.some((c) => c.keyId === o.key.keyId)).toBe(false);
  });

  test("the region from metadata picks the realm; a region no realm knows is an unknown-realm error", async () => {
    const env = setup({ federationOverride: false });
    o.configure({ "iad.ocir.io": { auth: "instance_principal" } });
    metadata.region = "xx-nowhere-9";
    const r = await o.get("iad.ocir.io", env);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('unknown realm: this instance is in region "xx-nowhere-9"');
    expect(metadata.counts.get("instance/region")).toBe(1);
    expect([federation.calls, o.ocir.calls.length]).toEqual([0, 0]);
  });

  test("a hanging metadata service ends within CCH_TIMEOUT, naming it", async () => {
    const env = setup({ timeout: "2" });
    o.configure({ "iad.ocir.io": { auth: "instance_principal" } });
    metadata.mode = { kind: "hang" };
    const r = await o.get("iad.ocir.io", env);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain("instance metadata service");
    expect(r.stdout).toMatch(/did not answer within/);
    expect(o.ocir.calls).toHaveLength(0);
  });

  test("in the automatic order, a silent metadata service means no identity, and says what was tried", async () => {
    const env = setup({ timeout: "2" });
    metadata.mode = { kind: "hang" };
    const r = await o.get("iad.ocir.io", env);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toStartWith("Oracle Cloud Infrastructure Registry: no OCI identity found; tried API key or session token");
    expect(r.stdout).toContain("instance principal (the instance metadata service");
    // Off OCI (platform.ts) the automatic order only probes briefly, not until CCH_TIMEOUT.
    if (!onOci()) expect(r.stdout).toContain(`did not answer within ${METADATA_PROBE_MS / 1000}s`);
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
    expect(o.ocir.calls).toHaveLength(0);
  });

  test("in the automatic order, no identity is remembered: the next get does not wait on the metadata service again", async () => {
    const env = setup({ timeout: "2" });
    metadata.mode = { kind: "hang" };
    const first = await o.get("iad.ocir.io", env);
    expect(first.stdout).toContain("no OCI identity found");
    const again = await o.get("fra.ocir.io", env);
    expect(again.exitCode).toBe(1);
    expect(again.stdout).toContain("no OCI identity found");
    expect(again.stdout).toContain("(remembered: not asked again for");
    expect(o.ocir.calls).toHaveLength(0);
  });

  test("a metadata service answering 500 or garbage is one clear line, and nothing is signed", async () => {
    const env = setup({ federationOverride: false });
    o.configure({ "iad.ocir.io": { auth: "instance_principal" } });
    metadata.mode = { kind: "fail", status: 500, body: "oops" };
    const failing = await o.get("iad.ocir.io", env);
    expect(failing.exitCode).toBe(1);
    expect(failing.stdout).toContain("the instance metadata service answered HTTP 500");
    metadata.mode = { kind: "ok" };
    metadata.region = "<html>maintenance</html>";
    const garbage = await o.get("iad.ocir.io", env);
    expect(garbage.exitCode).toBe(1);
    expect(garbage.stdout).toContain("returned no region name");
    for (const r of [failing, garbage]) expect(r.stdout.trim().split("\n")).toHaveLength(1);
    expect([federation.calls, o.ocir.calls.length]).toEqual([0, 0]);
  });

  test("a hanging federation endpoint ends within CCH_TIMEOUT", async () => {
    const env = setup({ timeout: "2" });
    o.configure({ "iad.ocir.io": { auth: "instance_principal" } });
    federation.mode = { kind: "hang" };
    const r = await o.get("iad.ocir.io", env);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/did not answer within|no answer within/);
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
    expect(o.ocir.calls).toHaveLength(0);
  });

  test("a federation refusal is one line, and nothing from the SDK reaches stdout", async () => {
    const env = setup();
    o.configure({ "iad.ocir.io": { auth: "instance_principal" } });
    federation.mode = { kind: "fail", status: 401, body: JSON.stringify({ code: "NotAuthenticated" }) };
    const r = await o.get("iad.ocir.io", env);
    expect(r.exitCode).toBe(1);
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
    expect(r.stdout).toStartWith(
      "Oracle Cloud Infrastructure Registry: cannot sign the token request with the instance principal",
    );
    expect(r.stderr).toBe("");
  });
});

describe("resource principal 1.1 (the Go SDK's flow; oci-common has none)", () => {
  test("the instance principal signs for the resource's token; OCIR sees only the resource principal's session key", async () => {
    const env = setup();
    const rp = startFakeResourcePrincipalService(o.ocir);
    try {
      const rpEnv = {
        ...env,
        OCI_RESOURCE_PRINCIPAL_VERSION: "1.1",
        OCI_RESOURCE_PRINCIPAL_RPT_ENDPOINT: rp.url,
        OCI_RESOURCE_PRINCIPAL_RPST_ENDPOINT: rp.url,
      };
      const r = credentialOf(await o.get("iad.ocir.io", rpEnv));
      expect(r.Secret).toBe(o.ocir.issued[0]!);
      expect(rp.refusals).toEqual([]);
      // The resource named by the instance's own id (no OCI_RESOURCE_PRINCIPAL_RPT_ID).
      expect(rp.resources).toEqual([INSTANCE_ID]);
      expect(o.ocir.calls).toEqual([{ keyId: `ST$${rp.issued[0]}`, verified: true, reason: "" }]);
      expect(federation.calls).toBe(1);

      // A named resource and path, as the platform sets them: another principal, another cache entry.
      const again = await o.get("iad.ocir.io", {
        ...rpEnv,
        OCI_RESOURCE_PRINCIPAL_RPT_ID: "ocid1.datasciencejob.oc1..job",
        OCI_RESOURCE_PRINCIPAL_RPT_PATH: "/20180711/resourcePrincipalToken/{id}",
      });
      expect(credentialOf(again).Secret).toBe(o.ocir.issued.at(-1)!);
      expect(rp.resources).toEqual([INSTANCE_ID, "ocid1.datasciencejob.oc1..job"]);
      expect(o.ocir.calls.map((c) => c.verified)).toEqual([true, true]);

      // An endpoint that would receive a signed request over plain http off this machine is refused.
      const bad = await o.get("iad.ocir.io", { ...rpEnv, OCI_RESOURCE_PRINCIPAL_RPT_ID: "ocid1.x.oc1..y", OCI_RESOURCE_PRINCIPAL_RPT_ENDPOINT: "http://rpt.example.com" });
      expect(bad.exitCode).toBe(1);
      expect(bad.stdout).toContain("OCI_RESOURCE_PRINCIPAL_RPT_ENDPOINT must be an https URL");
    } finally {
      await rp.stop();
    }
  });
});
