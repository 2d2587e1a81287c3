// describeIdentity (for `doctor`): which OCI identities exist, which one a
// fetch would use, cheap facts about them, and never a secret. Plus the
// platform check that decides how long the automatic order probes metadata.

import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { describeVia } from "../support/provider.ts";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EMPTY_CONFIG } from "../../src/config.ts";
import { silentLogger } from "../../src/log.ts";
import type { Context, IdentityReport, Target } from "../../src/provider.ts";
import { provider } from "../../src/providers/oci.ts";
import type { OcirHost } from "../../src/providers/oci/hosts.ts";
import { METADATA_PROBE_MS, metadataWaitCapMs, onOci } from "../../src/providers/oci/platform.ts";
import { parseAuthority } from "../../src/registry.ts";
import { mintJwt, startFakeMetadata, type FakeMetadata } from "./fakes.ts";

const dir = mkdtempSync(join(tmpdir(), "cch-oci-describe-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const home = join(dir, "home");
mkdirSync(join(home, ".oci"), { recursive: true });
const KEY_PEM = "-----BEGIN PRIVATE KEY-----\nnot-a-real-key-but-secret\n-----END PRIVATE KEY-----\n";
writeFileSync(join(home, ".oci", "key.pem"), KEY_PEM);
const SESSION = "session-token-secret-value";
writeFileSync(join(home, ".oci", "token"), SESSION);
const SA_TOKEN = mintJwt({ sub: "system:serviceaccount:team-a:puller" });
const saFile = join(dir, "sa-token");
writeFileSync(saFile, SA_TOKEN);
const CLOSED = "http://127.0.0.1:9/opc/v2/";

function writeConfig(extra: string): void {
  writeFileSync(
    join(home, ".oci", "config"),
    `[DEFAULT]\nuser=ocid1.user.oc1..me\nfingerprint=aa:bb\ntenancy=ocid1.tenancy.oc1..t\nregion=eu-frankfurt-1\n${extra}`,
  );
}

function target(settings: Record<string, string> = {}): Target<OcirHost> {
  const host = parseAuthority("fra.ocir.io");
  if (!host.ok) throw new Error("bad host");
  return { host: host.host, registry: "fra.ocir.io", settings, details: provider.match("fra.ocir.io")! };
}

async function describeWith(env: Record<string, string>, settings = {}, deadlineMs = 5000): Promise<IdentityReport> {
  const ctx: Context = {
    env: { HOME: home, CCH_OCI_METADATA_URL: CLOSED, ...env },
    now: () => new Date(),
    log: silentLogger,
    signal: new AbortController().signal,
    deadline: Date.now() + deadlineMs,
    config: EMPTY_CONFIG,
  };
  const report = await describeVia(provider, target(settings), ctx);
  // Never a secret: no key material, session token or service account token.
  const text = JSON.stringify(report);
  for (const secret of [KEY_PEM.split("\n")[1]!, SESSION, SA_TOKEN]) expect(text).not.toContain(secret);
  return report;
}

const byName = (r: IdentityReport, name: string) => r.sources.find((s) => s.name === name)!;

let metadata: FakeMetadata | null = null;
afterEach(async () => {
  await metadata?.stop();
  metadata = null;
  rmSync(join(home, ".oci", "config"), { force: true });
});

describe("describeIdentity", () => {
  test("an API key profile with its key file: found, used, with user, tenancy and region", async () => {
    writeConfig("key_file=~/.oci/key.pem\n");
    const r = await describeWith({});
    expect(r.used).toBe("OCI configuration file");
    expect(r.sources.map((s) => s.name)).toEqual([
      "OCI configuration file",
      "resource principal",
      "OKE workload identity",
      "instance principal",
    ]);
    const config = byName(r, "OCI configuration file");
    expect(config.found).toBe(true);
    for (const fact of ["API key", "user ocid1.user.oc1..me", "tenancy ocid1.tenancy.oc1..t", "region eu-frankfurt-1"]) {
      expect(config.detail).toContain(fact);
    }
    expect(config.detail).toContain(join(home, ".oci", "key.pem"));
    expect(byName(r, "instance principal")).toMatchObject({ found: false });
  });

  test("a missing key file is reported and nothing is 'used'", async () => {
    writeConfig("key_file=~/.oci/nope.pem\n");
    const r = await describeWith({});
    expect(byName(r, "OCI configuration file")).toMatchObject({ found: false });
    expect(byName(r, "OCI configuration file").detail).toContain("missing: key_file");
    expect(r.used).toBeNull();
  });

  test("a session-token profile names its token file, not the token", async () => {
    writeConfig("key_file=~/.oci/key.pem\nsecurity_token_file=~/.oci/token\n");
    const r = await describeWith({});
    expect(r.used).toBe("OCI configuration file");
    expect(byName(r, "OCI configuration file").detail).toContain("session token");
    expect(byName(r, "OCI configuration file").detail).toContain(join(home, ".oci", "token"));
  });

  test("resource principal and OKE workload identity from the environment, in the automatic order", async () => {
    const oke = { CCH_OCI_PROXYMUX_URL: "https://10.0.0.1:12250", CCH_OCI_SERVICE_ACCOUNT_TOKEN_FILE: saFile };
    const rp = { OCI_RESOURCE_PRINCIPAL_VERSION: "2.2", OCI_RESOURCE_PRINCIPAL_REGION: "us-phoenix-1" };
    const both = await describeWith({ ...oke, ...rp });
    expect(byName(both, "resource principal")).toEqual({
      name: "resource principal",
      found: true,
      detail: "version 2.2, region us-phoenix-1",
    });
    expect(both.used).toBe("resource principal");
    const okeOnly = await describeWith(oke);
    expect(okeOnly.used).toBe("OKE workload identity");
    expect(byName(okeOnly, "OKE workload identity").detail).toBe(
      `proxymux https://10.0.0.1:12250, token ${saFile} (system:serviceaccount:team-a:puller)`,
    );
    const none = await describeWith({});
    expect(byName(none, "OKE workload identity").detail).toContain("KUBERNETES_SERVICE_HOST");
  });

  test("instance principal: a quick metadata probe finds the region; silence or no time left is not found", async () => {
    metadata = startFakeMetadata({ tenancy: "t", certPem: "", keyPem: "", intermediatePem: "" });
    const up = await describeWith({ CCH_OCI_METADATA_URL: metadata.url });
    expect(byName(up, "instance principal")).toEqual({
      name: "instance principal",
      found: true,
      detail: `instance metadata at ${metadata.url}instance/region: region iad`,
    });
    expect(up.used).toBe("instance principal");
    expect(metadata.counts.get("instance/region")).toBe(1);

    metadata.mode = { kind: "hang" };
    const silent = await describeWith({ CCH_OCI_METADATA_URL: metadata.url });
    // Off OCI the probe gives up after METADATA_PROBE_MS; on an OCI machine it may use the deadline.
    const limit = onOci() ? "" : ` within ${METADATA_PROBE_MS / 1000}s`;
    expect(byName(silent, "instance principal").detail).toContain(`no instance metadata service answered at`);
    expect(byName(silent, "instance principal").detail).toContain(limit);
    expect(silent.used).toBeNull();

    const late = await describeWith({ CCH_OCI_METADATA_URL: metadata.url }, {}, -1);
    expect(byName(late, "instance principal").detail).toBe("not checked (no time left)");
  });

  test("an explicit auth setting decides which one is used", async () => {
    writeConfig("key_file=~/.oci/key.pem\n");
    const rp = { OCI_RESOURCE_PRINCIPAL_VERSION: "2.2" };
    expect((await describeWith(rp, { auth: "resource_principal" })).used).toBe("resource principal");
    expect((await describeWith(rp, {})).used).toBe("OCI configuration file");
    expect((await describeWith({ CCH_OCI_AUTH: "instance_principal" })).used).toBeNull();
  });
});

describe("platform check", () => {
  test("the DMI chassis asset tag says OCI; off OCI the automatic metadata wait is short", () => {
    const tag = join(dir, "asset-tag");
    writeFileSync(tag, "OracleCloud.com\n");
    expect(onOci(tag)).toBe(true);
    writeFileSync(tag, "Amazon EC2\n");
    expect(onOci(tag)).toBe(false);
    expect(onOci(join(dir, "none"))).toBe(false);
    expect(metadataWaitCapMs(true, () => false)).toBe(METADATA_PROBE_MS);
    expect(metadataWaitCapMs(true, () => true)).toBe(Infinity);
    expect(metadataWaitCapMs(false, () => false)).toBe(Infinity);
  });
});

test("helpText names the settings keys and environment variables", () => {
  for (const word of [
    "auth",
    "configFile",
    "profile",
    "tokenEndpoint",
    "CCH_OCI_AUTH",
    "OCI_CLI_AUTH",
    "OCI_CONFIG_FILE",
    "OCI_CLI_PROFILE",
    "CCH_OCI_METADATA_URL",
    "CCH_OCI_FEDERATION_ENDPOINT",
    "CCH_OCI_PROXYMUX_URL",
    "CCH_OCI_KUBERNETES_CA_FILE",
  ]) {
    expect(provider.manifest.helpText).toContain(word);
  }
  expect(provider.manifest.serviceAccountTokens).toMatchObject({ audience: "https://kubernetes.default.svc.cluster.local" });
  expect(Object.keys(provider.manifest.serviceAccountTokens?.env ?? {})).toEqual(["CCH_OCI_PROXYMUX_URL", "CCH_OCI_KUBERNETES_CA_FILE"]);
});
