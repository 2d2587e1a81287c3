// The workload identity settings (pure): which audience a pod's token is
// exchanged for, and what is refused.

import { describe, expect, test } from "bun:test";
import { podOptedIn, workloadConfig } from "../../src/providers/gcr/workload.ts";

const IDP = "https://container.googleapis.com/v1/projects/p1/locations/l/clusters/c";

describe("workloadConfig", () => {
  test("GKE: identitynamespace:<pool>:<identity provider>, the pool from the pool, the project, or GOOGLE_CLOUD_PROJECT", () => {
    const sts = "https://sts.googleapis.com/v1/token";
    expect(workloadConfig({ CCH_GCR_IDENTITY_PROVIDER: IDP, CCH_GCR_WORKLOAD_POOL: "p1.svc.id.goog" })).toEqual({
      ok: true,
      audience: `identitynamespace:p1.svc.id.goog:${IDP}`,
      stsEndpoint: sts,
    });
    expect(
      workloadConfig({ CCH_GCR_IDENTITY_PROVIDER: IDP, CCH_GCR_PROJECT_ID: "proj-2", GOOGLE_CLOUD_PROJECT: "other-1" }),
    ).toMatchObject({
      audience: `identitynamespace:proj-2.svc.id.goog:${IDP}`,
    });
    expect(workloadConfig({ CCH_GCR_IDENTITY_PROVIDER: IDP, GOOGLE_CLOUD_PROJECT: "other-1" })).toMatchObject({
      audience: `identitynamespace:other-1.svc.id.goog:${IDP}`,
    });
  });

  test("self-managed federation: the pool provider audience as given", () => {
    const audience = "//iam.googleapis.com/projects/12/locations/global/workloadIdentityPools/k8s/providers/c1";
    expect(workloadConfig({ CCH_GCR_WIF_AUDIENCE: audience, CCH_GCR_STS_ENDPOINT: "http://127.0.0.1:1/v1/token" })).toEqual({
      ok: true,
      audience,
      stsEndpoint: "http://127.0.0.1:1/v1/token",
    });
  });

  test("refused: nothing set, a bad URL, a bad pool, a bad audience, an STS endpoint off this machine over http", () => {
    const reason = (env: Record<string, string>) => {
      const c = workloadConfig(env);
      return c.ok ? "ok" : c.reason;
    };
    expect(reason({})).toContain("CCH_GCR_IDENTITY_PROVIDER");
    expect(reason({ CCH_GCR_IDENTITY_PROVIDER: "http://x" })).toContain("https://");
    expect(reason({ CCH_GCR_IDENTITY_PROVIDER: IDP })).toContain("workload pool");
    expect(reason({ CCH_GCR_IDENTITY_PROVIDER: IDP, CCH_GCR_WORKLOAD_POOL: "p1" })).toContain("<project>.svc.id.goog");
    expect(reason({ CCH_GCR_WIF_AUDIENCE: "p1.svc.id.goog" })).toContain("//iam.googleapis.com/projects/");
    expect(
      reason({ CCH_GCR_IDENTITY_PROVIDER: IDP, GOOGLE_CLOUD_PROJECT: "p1-abc", CCH_GCR_STS_ENDPOINT: "http://10.0.0.1/t" }),
    ).toContain("https://");
  });

  test("the opt-in is the annotation with the exact value true", () => {
    const sa = (annotations: Record<string, string>) => ({ token: "t", annotations });
    expect(podOptedIn(sa({ "iam.gke.io/enable-wi-image-pull": "true" }))).toBe(true);
    for (const v of ["True", "1", "yes", ""]) expect(podOptedIn(sa({ "iam.gke.io/enable-wi-image-pull": v }))).toBe(false);
    expect(podOptedIn(sa({}))).toBe(false);
    expect(podOptedIn(undefined)).toBe(false);
  });
});
