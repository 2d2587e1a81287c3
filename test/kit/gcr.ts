// The kit's adapter over the fake metadata server and the fake STS
// (test/gcr/fakes.ts): faults hit the metadata server's token call (the
// node's identity); a pod's service account opts in to workload identity
// image pulls and is trusted by the fake STS.

import { expect } from "bun:test";
import { provider } from "../../src/providers/gcr.ts";
import { startFakeMetadataServer, startFakeSts } from "../gcr/fakes.ts";
import { AUDIENCE, IDENTITY_PROVIDER, OPT_IN, saToken } from "../gcr/pods.ts";
import { makeGcrEnv } from "../gcr/support.ts";
import type { Cloud, CloudStarter, Fault } from "./kit.ts";

export const gcr: CloudStarter = {
  name: "gcr",
  async start(): Promise<Cloud> {
    const md = startFakeMetadataServer();
    const sts = startFakeSts();
    const normal = () => {
      Object.assign(md, { mode: "ok", delayMs: 0, expiresIn: 3599 });
      Object.assign(sts, { mode: "ok", delayMs: 0, expiresIn: 3599, expectedAudience: AUDIENCE, fixedToken: null });
    };
    normal();
    return {
      name: "gcr",
      provider,
      host: "gcr.io",
      env: (extra = {}) =>
        makeGcrEnv({
          GCE_METADATA_HOST: md.host,
          // No reachability probe: the count is of token requests only.
          METADATA_SERVER_DETECTION: "assume-present",
          CCH_GCR_IDENTITY_PROVIDER: IDENTITY_PROVIDER,
          CCH_GCR_STS_ENDPOINT: `${sts.url}/v1/token`,
          ...extra,
        }),
      calls: () => md.tokenCalls,
      issued: () => [...md.issued, ...sts.issued],
      delay(ms) {
        md.delayMs = ms;
        sts.delayMs = ms;
      },
      fault(f: Fault | null) {
        normal();
        if (f === "500") md.mode = "error";
        if (f === "slow") md.delayMs = 60_000;
        if (f === "silent") md.mode = "hang";
        if (f === "malformed") md.mode = "malformed";
        if (f === "expired") md.expiresIn = -60;
      },
      says: {
        "500": /HTTP 500/,
        slow: /deadline/,
        silent: /deadline/,
        malformed: /no access.?token|not (valid |a )?JSON/i,
        expired: /already expired/,
      },
      secrets: () => [...md.issued, ...sts.issued, sts.subjectToken, ...sts.exchanges.map((e) => e.subjectToken)],
      reset() {
        normal();
        Object.assign(md, { calls: 0, tokenCalls: 0, issued: [] });
        Object.assign(sts, { exchangeCalls: 0, impersonationCalls: 0, exchanges: [], issued: [], impersonated: [] });
        sts.issuedFor.clear();
        sts.acceptedSubjects.clear();
      },
      async stop() {
        await md.stop();
        await sts.stop();
      },
      pod: {
        serviceAccount(namespace, name, nonce) {
          const token = saToken(namespace, name, `uid-${namespace}-${name}`, nonce);
          sts.acceptedSubjects.add(token);
          return { token, annotations: OPT_IN };
        },
        echo(token) {
          sts.fixedToken = token;
        },
        calls: () => sts.exchangeCalls,
        tokenAttributes: {
          // The workload identity pool, <project>.svc.id.goog; without a project, a placeholder the operator fills in.
          serviceAccountTokenAudience: expect.stringMatching(/^\S+\.svc\.id\.goog$/),
          cacheType: "ServiceAccount",
          requireServiceAccount: false,
          optionalServiceAccountAnnotationKeys: Object.keys(OPT_IN),
        },
      },
    };
  },
};
