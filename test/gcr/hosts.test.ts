// Which hosts get a Google token: the match table, and the kubelet globs
// checked against it (they must cover every accepted host and nothing else).

import { describe, expect, test } from "bun:test";
import { provider } from "../../src/providers/gcr.ts";
import {
  ARTIFACT_REGISTRY_HOSTS,
  DEFAULT_GCR_REGISTRIES,
  KUBELET_MATCH_IMAGES,
  matchGoogleRegistry,
} from "../../src/providers/gcr/hosts.ts";
import { parseServerUrl } from "../../src/registry.ts";
import { kubeletMatches } from "../support/kubelet.ts";

const ACCEPTED: Array<[string, ReturnType<typeof matchGoogleRegistry>]> = [
  ["gcr.io", { kind: "gcr", host: "gcr.io" }],
  ["us.gcr.io", { kind: "gcr", host: "us.gcr.io" }],
  ["eu.gcr.io", { kind: "gcr", host: "eu.gcr.io" }],
  ["asia.gcr.io", { kind: "gcr", host: "asia.gcr.io" }],
  ["marketplace.gcr.io", { kind: "gcr", host: "marketplace.gcr.io" }],
  ["staging-k8s.gcr.io", { kind: "gcr", host: "staging-k8s.gcr.io" }],
  ["mirror.gcr.io", { kind: "gcr", host: "mirror.gcr.io" }],
  ["us-docker.pkg.dev", { kind: "artifact-registry", location: "us" }],
  ["us-central1-docker.pkg.dev", { kind: "artifact-registry", location: "us-central1" }],
  ["northamerica-northeast1-docker.pkg.dev", { kind: "artifact-registry", location: "northamerica-northeast1" }],
  ["docker.us-central1.rep.pkg.dev", { kind: "artifact-registry-regional", location: "us-central1" }],
  ["docker.europe-west10.rep.pkg.dev", { kind: "artifact-registry-regional", location: "europe-west10" }],
  ["container.cloud.google.com", { kind: "container.cloud.google.com" }],
];

const REJECTED = [
  "evilgcr.io",
  "gcr.io.evil.com",
  "xgcr.io",
  "gcr.iox",
  "a.b.gcr.io",
  "io",
  "pkg.dev",
  "docker.pkg.dev",
  "us-docker.pkg.dev.evil.com",
  "us-docker-pkg.dev",
  "us-python.pkg.dev",
  "evil.com",
  "docker.us.rep.pkg.dev.evil.com",
  "docker.a.b.rep.pkg.dev",
  "rep.pkg.dev",
  "cloud.google.com",
  "container.cloud.google.com.evil.com",
  "xcontainer.cloud.google.com",
  "docker.io",
  "127.0.0.1",
];

const coveredByKubelet = (host: string) => KUBELET_MATCH_IMAGES.some((g) => kubeletMatches(g, host));

describe("gcr host matching", () => {
  test.each(ACCEPTED)("accepts %s", (host, details) => {
    expect(matchGoogleRegistry(host)).toEqual(details);
  });

  test.each(REJECTED.map((h) => [h]))("rejects %s", (host) => {
    expect(matchGoogleRegistry(host)).toBeNull();
  });

  test("userinfo and other tricks never reach match: the server URL parser refuses them", () => {
    expect(parseServerUrl("https://gcr.io@evil.com").ok).toBe(false);
    expect(parseServerUrl("https://evil.com/gcr.io").ok && matchGoogleRegistry("evil.com")).toBeFalsy();
  });

  test("every default and Artifact Registry host is accepted", () => {
    expect(provider.manifest.defaultRegistries).toEqual(["gcr.io", "us.gcr.io", "eu.gcr.io", "asia.gcr.io", "marketplace.gcr.io"]);
    for (const host of [...DEFAULT_GCR_REGISTRIES, ...ARTIFACT_REGISTRY_HOSTS]) expect(matchGoogleRegistry(host)).not.toBeNull();
    expect(ARTIFACT_REGISTRY_HOSTS).toContain("us-docker.pkg.dev");
    expect(ARTIFACT_REGISTRY_HOSTS).toContain("docker.europe-west1.rep.pkg.dev");
    expect(new Set(ARTIFACT_REGISTRY_HOSTS).size).toBe(ARTIFACT_REGISTRY_HOSTS.length);
  });

  test("kubelet matchImages cover every accepted host", () => {
    for (const [host] of ACCEPTED) expect(coveredByKubelet(host)).toBe(true);
    for (const host of ARTIFACT_REGISTRY_HOSTS) expect(coveredByKubelet(host)).toBe(true);
  });

  test("kubelet matchImages cover nothing that match refuses", () => {
    for (const host of REJECTED) expect(coveredByKubelet(host)).toBe(false);
    // Whatever fills a glob's `*`, the host is one match accepts.
    for (const glob of KUBELET_MATCH_IMAGES) {
      for (const fill of ["x", "evil", "us-central1", "a-b"]) {
        const host = glob.replaceAll("*", fill);
        expect(matchGoogleRegistry(host)).not.toBeNull();
      }
    }
    expect(provider.manifest.kubeletMatchImages).toBe(KUBELET_MATCH_IMAGES);
  });

  test("minimum remaining life is 10 s (GKE metadata tokens)", () => {
    expect(provider.manifest.minRemainingMs).toBe(10_000);
  });
});
