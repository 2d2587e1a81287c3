// Kubelet service-account-token mode (KEP-4412) for Google, beyond the kit's
// shared kubelet scenarios (test/kit/kubelet.test.ts: response shape, caching
// per service account, the pod's token never returned), through the built
// binary run exactly as kubelet runs it: a pod whose service account opted in
// with iam.gke.io/enable-wi-image-pull pulls with its own identity, exchanged
// at a fake STS that checks the subject token and the audience; other pods
// keep the node's identity (the fake metadata server), as upstream does.

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { DIST, requireDist } from "../../support/env.ts";
import { decodeStrict, kubeletMatches, runAsKubelet } from "../../support/kubelet.ts";
import { startFakeMetadataServer, startFakeSts, type FakeMetadataServer, type FakeSts } from "../../gcr/fakes.ts";
import { AUDIENCE, kubeletRequest, OPT_IN, saToken, V1, workloadEnv } from "../../gcr/pods.ts";
import type { GcrTestEnv } from "../../gcr/support.ts";

const BIN = () => [join(DIST, "docker-credential-gcr"), "get-credentials"];
const password = (stdout: string, key: string) => decodeStrict(stdout, V1).auth[key]!.password;

describe("kubelet service account tokens (KEP-4412) with Google STS", () => {
  let md: FakeMetadataServer;
  let sts: FakeSts;
  let t: GcrTestEnv;
  const alice = saToken("team-a", "puller", "uid-a", "1");
  const aliceRotated = saToken("team-a", "puller", "uid-a", "2");
  const bob = saToken("team-b", "puller", "uid-b", "3");

  beforeAll(() => {
    requireDist();
    md = startFakeMetadataServer();
    sts = startFakeSts();
  });
  afterAll(async () => {
    await md.stop();
    await sts.stop();
  });
  beforeEach(() => {
    Object.assign(md, { mode: "ok", calls: 0, tokenCalls: 0, issued: [] });
    Object.assign(sts, { mode: "ok", exchangeCalls: 0, exchanges: [], issued: [], expectedAudience: AUDIENCE });
    sts.issuedFor.clear();
    sts.acceptedSubjects = new Set([alice, aliceRotated, bob]);
    t = workloadEnv(md, sts);
  });
  afterEach(() => t.cleanup());

  test("an opted-in pod's token is exchanged at STS: request/response round trip, strictly decoded", async () => {
    const request = kubeletRequest("us-docker.pkg.dev/proj/team/app:v1", alice, OPT_IN);
    const r = await runAsKubelet(BIN(), t.env, request);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    const d = decodeStrict(r.stdout, V1);
    expect(Object.keys(d.auth)).toEqual(["us-docker.pkg.dev"]);
    expect(kubeletMatches("us-docker.pkg.dev", "us-docker.pkg.dev/proj/team/app")).toBe(true);
    expect(d.auth["us-docker.pkg.dev"]!.username).toBe("oauth2accesstoken");
    const pw = d.auth["us-docker.pkg.dev"]!.password;
    expect(pw).toBe(sts.issued[0]!);
    expect(sts.issuedFor.get(pw)).toBe(alice); // exchanged for this pod's token
    expect(pw).not.toBe(alice);
    expect(d.cacheDurationMs).toBeGreaterThan(0);
    expect(d.cacheDurationMs!).toBeLessThanOrEqual(3599_000 / 2);
    // auth-provider-gcp's request: JSON, token-exchange of a jwt, the identitynamespace audience.
    expect(sts.exchanges).toEqual([
      { subjectToken: alice, audience: AUDIENCE, subjectTokenType: "urn:ietf:params:oauth:token-type:jwt", encoding: "json" },
    ]);
    expect(md.tokenCalls).toBe(0); // never the node's identity
    const redact = (text: string) => text.replaceAll(alice, "<pod token>").replaceAll(pw, "<access token>");
    // For a report: CCH_GCR_PAIR_OUT=<file> keeps this pair, tokens replaced.
    const out = process.env.CCH_GCR_PAIR_OUT;
    if (out) writeFileSync(out, `${redact(JSON.stringify(request))}\n${redact(r.stdout)}`);
  });

  test("without the opt-in annotation the pod pulls with the node's identity, as upstream", async () => {
    const cases: Array<Record<string, string> | undefined> = [undefined, {}, { "iam.gke.io/enable-wi-image-pull": "false" }];
    for (const annotations of cases) {
      const r = await runAsKubelet(BIN(), t.env, kubeletRequest("eu.gcr.io/proj/app", alice, annotations));
      expect(r.exitCode).toBe(0);
      // A metadata token; each annotation set is its own cache entry (the resolver keys on them).
      expect(md.issued).toContain(password(r.stdout, "eu.gcr.io"));
    }
    expect(md.tokenCalls).toBeGreaterThan(0);
    expect(sts.exchangeCalls).toBe(0);
  });

  test("opted in but not configured: a one-line error, never the node's identity", async () => {
    const { CCH_GCR_IDENTITY_PROVIDER: _, ...env } = t.env;
    const r = await runAsKubelet(BIN(), env, kubeletRequest("gcr.io/proj/app", alice, OPT_IN));
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("CCH_GCR_IDENTITY_PROVIDER");
    expect(md.calls + sts.exchangeCalls).toBe(0);
  });

  test("STS refusing the pod's token is a one-line error without the token", async () => {
    const stranger = saToken("team-c", "intruder", "uid-c");
    const r = await runAsKubelet(BIN(), t.env, kubeletRequest("gcr.io/proj/app", stranger, OPT_IN));
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("invalid_grant");
    expect(r.stderr).not.toContain(stranger);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  test("self-managed federation: CCH_GCR_WIF_AUDIENCE is the audience", async () => {
    const audience = "//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/k8s/providers/c1";
    sts.expectedAudience = audience;
    const r = await runAsKubelet(
      BIN(),
      { ...t.env, CCH_GCR_WIF_AUDIENCE: audience },
      kubeletRequest("container.cloud.google.com/app", bob, OPT_IN),
    );
    expect(r.stderr).toBe("");
    expect(password(r.stdout, "container.cloud.google.com")).toBe(sts.issued[0]!);
    expect(sts.exchanges[0]!.audience).toBe(audience);
  });
});
