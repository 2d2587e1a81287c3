// The kit's adapter over the OCIR fakes (test/oci/fakes.ts, proxymux.ts): the
// node signs with an API key in ~/.oci/config; faults hit the OCIR token
// endpoint; a pod's service account is accepted by the fake OKE proxymux,
// which trusts the RPST's session key at the fake OCIR.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { provider } from "../../src/providers/oci.ts";
import { makeTestEnv } from "../support/env.ts";
import { serviceAccountToken } from "../support/kubelet.ts";
import { apiKeyProfile, makeApiKey, startFakeOcir, writeOciConfig } from "../oci/fakes.ts";
import { makeLocalTls, startFakeProxymux } from "../oci/proxymux.ts";
import type { Cloud, CloudStarter, Fault } from "./kit.ts";

const HOST = "iad.ocir.io";

export const oci: CloudStarter = {
  name: "oci",
  async start(): Promise<Cloud> {
    const dir = mkdtempSync(join(tmpdir(), "cch-kit-oci-"));
    const key = makeApiKey(join(dir, "keys"));
    const tls = await makeLocalTls(dir);
    const ocir = startFakeOcir();
    ocir.trust(key.keyId, key.publicKey);
    const proxymux = startFakeProxymux(ocir, tls);
    // The node's own mounted token (auth=oke_workload_identity): never used for a pod.
    const nodeToken = serviceAccountToken("kube-system", "node-helper", "uid-node", { nonce: "node" });
    proxymux.accept(nodeToken, "node");
    const podTokens: string[] = [];
    const normal = () => {
      ocir.mode = { kind: "ok" };
      ocir.expiresIn = 3600;
      ocir.fixedToken = null;
    };
    return {
      name: "oci",
      provider,
      host: HOST,
      env(extra = {}) {
        const t = makeTestEnv({
          // A closed port: no test ever reaches 169.254.169.254, even by accident.
          CCH_OCI_METADATA_URL: "http://127.0.0.1:9/opc/v2/",
          CCH_OCI_PROXYMUX_URL: proxymux.url,
          CCH_OCI_KUBERNETES_CA_FILE: tls.caFile,
        });
        const tokenFile = join(t.dir, "node-sa-token");
        writeFileSync(tokenFile, nodeToken);
        Object.assign(t.env, { CCH_OCI_SERVICE_ACCOUNT_TOKEN_FILE: tokenFile, ...extra });
        const ociDir = join(t.env.HOME!, ".oci");
        mkdirSync(ociDir, { recursive: true });
        writeOciConfig(join(ociDir, "config"), { DEFAULT: apiKeyProfile(key) });
        t.writeConfig({ registries: { [HOST]: { tokenEndpoint: ocir.url } } });
        return t;
      },
      calls: () => ocir.calls.length,
      issued: () => ocir.issued,
      delay(ms) {
        ocir.mode = { kind: "slow", ms };
      },
      fault(f: Fault | null) {
        normal();
        if (f === "500") ocir.mode = { kind: "fail", status: 500, body: '{"code":"InternalServerError","message":"oops"}' };
        if (f === "slow") ocir.mode = { kind: "slow", ms: 60_000 };
        if (f === "silent") ocir.mode = { kind: "hang" };
        if (f === "malformed") ocir.mode = { kind: "fail", status: 200, body: "<html>not a token</html>" };
        if (f === "expired") ocir.expiresIn = -60;
      },
      says: {
        "500": /answered HTTP 500/,
        slow: /within/,
        silent: /within/,
        malformed: /unusable token answer|not JSON/,
        expired: /expires_in/,
      },
      secrets: () => [
        ...ocir.issued,
        ...proxymux.issued,
        nodeToken,
        ...podTokens,
        // The private key's body lines, any of which would betray it.
        ...key.privatePem.split("\n").filter((l) => l.length > 40),
      ],
      reset() {
        normal();
        ocir.calls = [];
        ocir.issued = [];
        proxymux.mode = { kind: "ok" };
        proxymux.tokens = [];
        proxymux.issued = [];
        podTokens.length = 0;
      },
      async stop() {
        await ocir.stop();
        await proxymux.stop();
        rmSync(dir, { recursive: true, force: true });
      },
      pod: {
        serviceAccount(namespace, name, nonce) {
          const token = serviceAccountToken(namespace, name, `uid-${namespace}-${name}`, { nonce });
          proxymux.accept(token, `workload-${namespace}-${name}`);
          podTokens.push(token);
          return { token, annotations: {} };
        },
        echo(token) {
          ocir.fixedToken = token;
        },
        calls: () => proxymux.tokens.length,
        // OKE's audience; no annotation: the proxymux knows the workload from the token.
        tokenAttributes: {
          serviceAccountTokenAudience: "https://kubernetes.default.svc.cluster.local",
          cacheType: "ServiceAccount",
          requireServiceAccount: false,
        },
      },
    };
  },
};
