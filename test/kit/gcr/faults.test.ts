// Google faults beyond the kit's shared ones (test/kit/faults.test.ts runs
// 500, slow, silent, malformed and expired against the metadata server): a
// slow answer inside the deadline, and every fault of STS in kubelet pod mode.
// Every run ends within its deadline (CCH_TIMEOUT; the only timing here is the
// harness's kill timeout) with one clear line, or with a cached token that is
// still valid; never a hang, never an expired token.

import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { DIST, requireDist, runCommand, type RunResult } from "../../support/env.ts";
import { decodeStrict, runAsKubelet } from "../../support/kubelet.ts";
import { startFakeMetadataServer, startFakeSts, type FakeMetadataServer, type FakeMode, type FakeSts } from "../../gcr/fakes.ts";
import { AUDIENCE, kubeletRequest, OPT_IN, saToken, V1, workloadEnv } from "../../gcr/pods.ts";
import { makeGcrEnv, type GcrTestEnv } from "../../gcr/support.ts";

const HARNESS_KILL_MS = 30_000;
const BIN = () => join(DIST, "docker-credential-gcr");

interface Fault {
  name: string;
  mode: FakeMode;
  delayMs?: number;
  expiresIn?: number;
  /** What the one-line error must say. */
  says: RegExp;
}

const FAULTS: Fault[] = [
  { name: "HTTP 500", mode: "error", says: /HTTP 500/ },
  { name: "a malformed body", mode: "malformed", says: /no access.?token|not (valid |a )?JSON/i },
  { name: "a token already expired (expires_in 0)", mode: "ok", expiresIn: 0, says: /already expired/ },
  { name: "a token already expired (expires_in -60)", mode: "ok", expiresIn: -60, says: /already expired/ },
  { name: "an answer slower than the deadline", mode: "ok", delayMs: 6_000, says: /deadline/ },
  { name: "no answer at all", mode: "hang", says: /deadline/ },
];

/** Makes every cached token past half its life (so it is refreshed) with ten minutes still left. */
function ageCache(t: GcrTestEnv): string[] {
  return t.cacheEntries().map(({ file, data }) => {
    writeFileSync(file, JSON.stringify({ ...data, issuedAt: Date.now() - 3_000_000, expiresAt: Date.now() + 600_000 }));
    return data.secret as string;
  });
}

function expectOneLineFailure(r: RunResult, text: string, says: RegExp, issued: string[]): void {
  expect(r.exitCode).toBe(1);
  expect(text.trim().split("\n")).toHaveLength(1);
  expect(text).toMatch(says);
  for (const token of issued) expect(r.stdout + r.stderr).not.toContain(token);
}

function apply(fake: FakeMetadataServer | FakeSts, f: Fault): void {
  fake.mode = f.mode;
  fake.delayMs = f.delayMs ?? 0;
  fake.expiresIn = f.expiresIn ?? 3599;
}

describe("metadata server (docker get)", () => {
  let md: FakeMetadataServer;
  beforeAll(() => {
    requireDist();
    md = startFakeMetadataServer();
  });
  afterAll(() => md.stop());
  beforeEach(() => apply(md, { name: "ok", mode: "ok", says: /./ }));

  const env = () => makeGcrEnv({ GCE_METADATA_HOST: md.host, METADATA_SERVER_DETECTION: "assume-present" });

  test("a slow answer within the deadline is a success", async () => {
    const t = env();
    try {
      md.delayMs = 1_500;
      const r = await runCommand([BIN(), "get"], "gcr.io", { ...t.env, CCH_TIMEOUT: "10" }, { timeoutMs: HARNESS_KILL_MS });
      expect(r.exitCode).toBe(0);
      expect(JSON.parse(r.stdout).Secret).toBe(md.issued.at(-1)!);
    } finally {
      t.cleanup();
    }
  });
});

describe("STS faults (kubelet, pod identity)", () => {
  let md: FakeMetadataServer;
  let sts: FakeSts;
  const pod = saToken("team-a", "puller", "uid-a");
  beforeAll(() => {
    requireDist();
    md = startFakeMetadataServer();
    sts = startFakeSts();
    sts.acceptedSubjects.add(pod);
    sts.expectedAudience = AUDIENCE;
  });
  afterAll(async () => {
    await md.stop();
    await sts.stop();
  });
  beforeEach(() => apply(sts, { name: "ok", mode: "ok", says: /./ }));

  const ask = (t: GcrTestEnv, timeout = "2") =>
    runAsKubelet([BIN(), "get-credentials"], { ...t.env, CCH_TIMEOUT: timeout }, kubeletRequest("gcr.io/p/app", pod, OPT_IN));

  test.each(FAULTS)(
    "$name: exit 1 with one line on stderr; a valid cached token is still served",
    async (f) => {
      const t = workloadEnv(md, sts);
      const warm = workloadEnv(md, sts);
      try {
        expect((await ask(warm)).exitCode).toBe(0);
        const [cached] = ageCache(warm);
        apply(sts, f);
        // Both at once: a slow or silent STS costs one deadline.
        const [r, again] = await Promise.all([ask(t), ask(warm, "1")]);
        expectOneLineFailure(r, r.stderr, f.says, [...sts.issued, pod]);
        expect(r.stdout).toBe("");
        expect(t.cacheEntries()).toEqual([]);

        expect(again.stderr).toBe("");
        const d = decodeStrict(again.stdout, V1);
        expect(d.auth["gcr.io"]!.password).toBe(cached!);
        // kubelet may keep it only for what is left of its life.
        expect(d.cacheDurationMs!).toBeLessThanOrEqual(600_000);
        expect(md.calls).toBe(0); // never the node's identity instead
      } finally {
        t.cleanup();
        warm.cleanup();
      }
    },
    60_000,
  );
});
