// The herd in kubelet service-account mode (the kit's test/kit/herd.test.ts
// covers docker gets for every cloud): many requests of one service account
// on a cold cache make one STS exchange and share one credential.

import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { DIST, requireDist } from "../../support/env.ts";
import { decodeStrict, runAsKubelet } from "../../support/kubelet.ts";
import { startFakeMetadataServer, startFakeSts } from "../../gcr/fakes.ts";
import { AUDIENCE, kubeletRequest, OPT_IN, saToken, V1, workloadEnv } from "../../gcr/pods.ts";

const BIN = () => join(DIST, "docker-credential-gcr");

describe("herd in kubelet service-account mode (STS)", () => {
  test("12 concurrent requests of one service account: one exchange, one credential", async () => {
    requireDist();
    const md = startFakeMetadataServer();
    const sts = startFakeSts();
    const t = workloadEnv(md, sts);
    try {
      const token = saToken("team-a", "puller", "uid-a");
      sts.acceptedSubjects.add(token);
      sts.expectedAudience = AUDIENCE;
      sts.delayMs = 300;
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          runAsKubelet([BIN(), "get-credentials"], t.env, kubeletRequest(`gcr.io/proj/app${i}`, token, OPT_IN)),
        ),
      );
      for (const r of results) expect(decodeStrict(r.stdout, V1).auth["gcr.io"]!.password).toBe(sts.issued[0]!);
      expect(sts.exchangeCalls).toBe(1);
      expect(md.calls).toBe(0);
    } finally {
      await md.stop();
      await sts.stop();
      t.cleanup();
    }
  }, 90_000);
});
