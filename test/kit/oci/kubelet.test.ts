// docker-credential-oci as a kubelet credential provider in service-account-
// token mode (KEP-4412), beyond the kit's shared kubelet scenarios
// (test/kit/kubelet.test.ts: response shape, caching per service account, the
// pod's token never returned), run exactly as kubelet runs it, against a fake OKE
// proxymux (https, local CA) and the signature-verifying fake OCIR.
//
// What these tests PROVE, for our side of the OKE workload identity flow:
// - the pod's token from the CredentialProviderRequest (never the node's token
//   file, never the node's API key) is what reaches the proxymux, as
//   `Authorization: Bearer`, over TLS verified against the configured cluster CA
//   (a certificate from another CA is refused);
// - the request has the shape oci-common's OKE client sends (POST, JSON
//   {"podKey": base64 SPKI}), and its answer (base64 JSON {"token":"ST$…"}) is
//   decoded as the SDK decodes it;
// - the OCIR token request is signed once, with key id ST$<rpst> and the
//   session key bound to that RPST (the fake OCIR verifies the signature);
// - each service account gets its own OCIR token, cached per service account
//   (a rotated token of the same one hits the cache), never shared with the
//   node; the pod token is never the password; every failure is one line.
// What they do NOT prove (needs a real enhanced OKE cluster):
// - that the real proxymux accepts a kubelet-minted token with
//   OKE_TOKEN_AUDIENCE (src/providers/oci/settings.ts); OCI's SDKs send the
//   pod's default API-audience token, and OKE's audience is not verified here;
// - the real proxymux's answer format beyond what the SDK parses, its errors,
//   rate limits, or RPST lifetime; that the node can reach it (port 12250 on
//   the API server endpoint) and which CA file a node has;
// - that kubelet (1.33+) may mint tokens for that audience
//   (ServiceAccountNodeAudienceRestriction may need RBAC for it);
// - IAM: that OCIR accepts an RPST signature, and the workload policy that
//   allows the pull.

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DIST, recordForLogScan, requireDist, runCommand } from "../../support/env.ts";
import { decodeStrict, runAsKubelet, serviceAccountToken } from "../../support/kubelet.ts";
import { makeLocalTls, startFakeProxymux, type FakeProxymux, type LocalTls } from "../../oci/proxymux.ts";
import { credentialOf, setupOci, type OciTest } from "../../oci/setup.ts";

requireDist();

const V1 = "credentialprovider.kubelet.k8s.io/v1";
const BIN = () => join(DIST, "docker-credential-oci");

const saToken = (namespace: string, name: string, uid: string, nonce: string) =>
  serviceAccountToken(namespace, name, uid, { nonce });
const request = (image: string, token: string) => ({
  kind: "CredentialProviderRequest",
  apiVersion: V1,
  image,
  serviceAccountToken: token,
  serviceAccountAnnotations: {},
});

let pki: string;
let tls: LocalTls;
let otherTls: LocalTls;
beforeAll(async () => {
  pki = mkdtempSync(join(tmpdir(), "cch-oci-proxymux-"));
  tls = await makeLocalTls(pki, "cluster");
  otherTls = await makeLocalTls(pki, "stranger");
});
afterAll(() => rmSync(pki, { recursive: true, force: true }));

let o: OciTest;
let proxymux: FakeProxymux;
let env: Record<string, string>;
const NODE_TOKEN = saToken("kube-system", "node-helper", "uid-node", "node");
beforeEach(() => {
  // The node has its own API key in ~/.oci/config and a token file: neither may be used for a pod.
  o = setupOci();
  proxymux = startFakeProxymux(o.ocir, tls);
  const nodeTokenFile = join(o.t.dir, "node-sa-token");
  writeFileSync(nodeTokenFile, NODE_TOKEN);
  proxymux.accept(NODE_TOKEN, "node");
  env = {
    ...o.t.env,
    CCH_OCI_PROXYMUX_URL: proxymux.url,
    CCH_OCI_KUBERNETES_CA_FILE: tls.caFile,
    CCH_OCI_SERVICE_ACCOUNT_TOKEN_FILE: nodeTokenFile,
  };
});
afterEach(async () => {
  // The RPSTs are credentials too: the log scan (scripts/scan-logs.ts) must find none of them.
  for (const rpst of proxymux.issued) recordForLogScan(JSON.stringify({ secret: rpst }) + "\n", "", "");
  await proxymux.stop();
  await o.cleanup();
});

const ask = (token: string, e = env, image = "iad.ocir.io/team/app:v1") =>
  runAsKubelet([BIN(), "get-credentials"], e, request(image, token));

describe("kubelet service-account-token mode (OKE workload identity)", () => {
  test("round trip: the pod's token at the proxymux, the OCIR request signed with the RPST's session key", async () => {
    const alice = saToken("team-a", "puller", "uid-a", "1");
    proxymux.accept(alice, "workload-a");
    const r = await ask(alice);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    const d = decodeStrict(r.stdout, V1);
    expect(d.cacheKeyType).toBe("Registry");
    expect(Object.keys(d.auth)).toEqual(["iad.ocir.io"]);
    expect(d.auth["iad.ocir.io"]).toEqual({ username: "BEARER_TOKEN", password: o.ocir.issued[0]! });
    expect(d.cacheDurationMs).toBeGreaterThan(0);
    expect(d.cacheDurationMs!).toBeLessThanOrEqual(1800_000);
    // The pod's token only: not the node's token file, not the node's API key.
    expect(proxymux.tokens).toEqual([alice]);
    expect(o.ocir.calls).toEqual([{ keyId: `ST$${proxymux.issued[0]}`, verified: true, reason: "" }]);
    expect(d.auth["iad.ocir.io"]!.password).not.toBe(alice);
  });

  test("auth=oke_workload_identity in a pod exchanges the mounted token file the same way", async () => {
    o.configure({ "iad.ocir.io": { auth: "oke_workload_identity" } });
    const r = credentialOf(await o.get("iad.ocir.io", env));
    expect(r.Secret).toBe(o.ocir.issued[0]!);
    expect(proxymux.tokens).toEqual([NODE_TOKEN]);
    expect(o.ocir.calls[0]!.keyId).toBe(`ST$${proxymux.issued[0]}`);
  });

  test("faults: one line on stderr, exit 1, no token echoed, nothing signed with the node's identity", async () => {
    const pod = saToken("team-c", "puller", "uid-c", "4");
    proxymux.accept(pod, "workload-c");
    const { CCH_OCI_PROXYMUX_URL: _url, ...unconfigured } = env;
    const cases: Array<[string, () => void, Record<string, string>, string]> = [
      [
        "refused",
        () => (proxymux.mode = { kind: "fail", status: 401, body: "no" }),
        env,
        "refused the pod's service account token (HTTP 401)",
      ],
      ["500", () => (proxymux.mode = { kind: "fail", status: 500, body: "oops" }), env, "answered HTTP 500"],
      ["malformed", () => (proxymux.mode = { kind: "malformed", body: "<html>" }), env, "unusable answer"],
      ["expired", () => (proxymux.rpstLifetime = -60), env, "the session token has already expired"],
      ["hang", () => (proxymux.mode = { kind: "hang" }), { ...env, CCH_TIMEOUT: "2" }, "did not answer within"],
      ["wrong CA", () => {}, { ...env, CCH_OCI_KUBERNETES_CA_FILE: otherTls.caFile }, "cannot reach the OKE proxymux"],
      ["unconfigured", () => {}, unconfigured, "KUBERNETES_SERVICE_HOST is not set (or set CCH_OCI_PROXYMUX_URL)"],
    ];
    for (const [name, arrange, e, message] of cases) {
      proxymux.mode = { kind: "ok" };
      proxymux.rpstLifetime = 3600;
      arrange();
      const r = await ask(pod, { ...e, CCH_DISABLE_CACHE: "1" });
      expect({ name, exitCode: r.exitCode, stdout: r.stdout }).toEqual({ name, exitCode: 1, stdout: "" });
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toContain(message);
      expect(r.stderr).not.toContain(pod);
    }
    expect(o.ocir.calls).toEqual([]);
  });
});

describe("a pod with the OCI SDKs' OKE workload-identity environment (docker protocol, automatic order)", () => {
  test("OCI_RESOURCE_PRINCIPAL_VERSION + REGION + KUBERNETES_SERVICE_HOST find the proxymux; the CA comes from OCI_KUBERNETES_SERVICE_ACCOUNT_CERT_PATH", async () => {
    // No API key on this pod: the automatic order must reach workload identity.
    rmSync(o.ociConfig);
    const pod = saToken("team-b", "app", "uid-b", "2");
    proxymux.accept(pod, "workload-b");
    const podTokenFile = join(o.t.dir, "pod-sa-token");
    writeFileSync(podTokenFile, pod);
    const port = new URL(proxymux.url).port;
    const sdkEnv = {
      ...o.t.env,
      OCI_RESOURCE_PRINCIPAL_VERSION: "2.2",
      OCI_RESOURCE_PRINCIPAL_REGION: "us-ashburn-1",
      KUBERNETES_SERVICE_HOST: "127.0.0.1",
      // The SDKs use port 12250; the fake listens elsewhere, which the TypeScript SDK's variable says.
      KUBERNETES_SERVICE_PORT_PROXYMUX: port,
      OCI_KUBERNETES_SERVICE_ACCOUNT_CERT_PATH: tls.caFile,
      CCH_OCI_SERVICE_ACCOUNT_TOKEN_FILE: podTokenFile,
    };
    const r = await runCommand([BIN(), "get"], "iad.ocir.io", sdkEnv);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout).Secret).toBe(o.ocir.issued.at(-1)!);
    expect(proxymux.tokens).toEqual([pod]);
    expect(o.ocir.calls.map((c) => c.verified)).toEqual([true]);

    // Without the region the SDKs refuse this environment; so does detection, naming it.
    const { OCI_RESOURCE_PRINCIPAL_REGION: _, ...noRegion } = sdkEnv;
    writeFileSync(o.t.configFile, JSON.stringify({ registries: { "fra.ocir.io": { tokenEndpoint: o.ocir.url } } }));
    const missing = await runCommand([BIN(), "get"], "fra.ocir.io", noRegion);
    expect(missing.exitCode).toBe(1);
    expect(missing.stdout).toContain("OKE workload identity (lacks OCI_RESOURCE_PRINCIPAL_REGION)");
    expect(proxymux.tokens).toEqual([pod]);
  });
});
