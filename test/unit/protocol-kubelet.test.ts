import { describe, expect, test } from "bun:test";
import {
  encodeKubeletResponse,
  formatGoDuration,
  imageHost,
  kubeletCacheDurationMs,
  looksLikeKubeletRequest,
  parseKubeletRequest,
} from "../../src/protocol/kubelet.ts";
import { decodeStrict, kubeletMatches, parseGoDuration } from "../support/kubelet.ts";

const V1 = "credentialprovider.kubelet.k8s.io/v1";

describe("kubelet protocol (pure)", () => {
  test.each([
    ["nginx", "docker.io"],
    ["library/nginx:1.25", "docker.io"],
    ["docker.io/library/nginx", "docker.io"],
    ["123456789012.dkr.ecr.us-east-1.amazonaws.com/app", "123456789012.dkr.ecr.us-east-1.amazonaws.com"],
    ["123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:v1", "123456789012.dkr.ecr.us-east-1.amazonaws.com"],
    ["Europe-Docker.pkg.dev/p/r/i@sha256:" + "a".repeat(64), "europe-docker.pkg.dev"],
    ["registry.local:5000/a/b:tag@sha256:" + "b".repeat(64), "registry.local:5000"],
    ["localhost/app", "localhost"],
    ["127.0.0.1:5000/app", "127.0.0.1:5000"],
    ["https://myreg.azurecr.io/app", "myreg.azurecr.io"],
  ])("image %p is on %p", (image, host) => {
    const r = imageHost(image);
    expect(r.ok && r.host.key).toBe(host);
  });

  test("image references with userinfo or spaces are not a host", () => {
    expect(imageHost("user@evil.com/app").ok).toBe(true); // '@' starts a digest: the name is "user", i.e. Docker Hub
    expect(imageHost("user@evil.com/app").ok && (imageHost("user@evil.com/app") as { host: { key: string } }).host.key).toBe(
      "docker.io",
    );
    expect(imageHost("a b/c").ok).toBe(false);
  });

  test("requests: every apiVersion, optional service account fields, clear errors", () => {
    for (const v of ["v1", "v1beta1", "v1alpha1"]) {
      const r = parseKubeletRequest(
        JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: `credentialprovider.kubelet.k8s.io/${v}`, image: "x" }),
      );
      expect(r.ok).toBe(true);
    }
    const sa = parseKubeletRequest(
      JSON.stringify({
        kind: "CredentialProviderRequest",
        apiVersion: V1,
        image: "x",
        serviceAccountToken: "t",
        serviceAccountAnnotations: { a: "b" },
      }),
    );
    expect(sa).toEqual({
      ok: true,
      request: { apiVersion: V1, image: "x", serviceAccountToken: "t", serviceAccountAnnotations: { a: "b" } },
    });
    const bad: Array<[string, string]> = [
      ["nope", "not valid JSON"],
      ["[]", "expected a JSON object"],
      [JSON.stringify({ kind: "X", apiVersion: V1, image: "x" }), "kind must be"],
      [JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: "v2", image: "x" }), "unsupported apiVersion"],
      [JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: V1 }), "image is required"],
      [
        JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: V1, image: "x", serviceAccountToken: 5 }),
        "serviceAccountToken",
      ],
      [
        JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: V1, image: "x", serviceAccountAnnotations: { a: 1 } }),
        "serviceAccountAnnotations",
      ],
    ];
    for (const [text, message] of bad) {
      const r = parseKubeletRequest(text);
      expect(!r.ok && r.message).toContain(message);
    }
    expect(looksLikeKubeletRequest(' {"kind":"CredentialProviderRequest"}')).toBe(true);
    expect(looksLikeKubeletRequest("gcr.io")).toBe(false);
    // Only an image, as people type it to try a provider: a v1 request. Half a header is not.
    expect(looksLikeKubeletRequest('{"image": "gcr.io/p/i"}')).toBe(true);
    expect(parseKubeletRequest('{"image": "gcr.io/p/i"}')).toEqual({ ok: true, request: { apiVersion: V1, image: "gcr.io/p/i" } });
    expect(parseKubeletRequest(JSON.stringify({ apiVersion: V1, image: "x" })).ok).toBe(false);
    expect(parseKubeletRequest(JSON.stringify({ kind: "CredentialProviderRequest", image: "x" })).ok).toBe(false);
  });

  test("Go durations: formatted ones parse back to the same value", () => {
    for (const ms of [0, 999, 1000, 59_000, 60_000, 3_599_000, 3_600_000, 21_570_000, 43_200_000]) {
      const text = formatGoDuration(ms);
      expect(parseGoDuration(text)).toBe(Math.floor(ms / 1000) * 1000);
    }
    expect(formatGoDuration(21_570_000)).toBe("5h59m30s");
    expect(formatGoDuration(3_600_000)).toBe("1h0m0s");
    expect(() => parseGoDuration("1d")).toThrow();
    expect(() => parseGoDuration("3600")).toThrow();
  });

  test("cache duration is half the remaining life, capped, never negative", () => {
    const now = new Date(0);
    expect(kubeletCacheDurationMs(new Date(3_600_000), now, 1e9)).toBe(1_800_000);
    expect(kubeletCacheDurationMs(new Date(3_600_000), now, 600_000)).toBe(600_000);
    expect(kubeletCacheDurationMs(new Date(-5), now, 1e9)).toBe(0);
  });

  test("responses pass kubelet's strict decoding and echo the apiVersion", () => {
    const text = encodeKubeletResponse("credentialprovider.kubelet.k8s.io/v1beta1", 90_000, {
      "gcr.io": { username: "u", password: "p" },
    });
    const d = decodeStrict(text, "credentialprovider.kubelet.k8s.io/v1beta1");
    expect(d).toEqual({
      apiVersion: "credentialprovider.kubelet.k8s.io/v1beta1",
      cacheKeyType: "Registry",
      cacheDurationMs: 90_000,
      auth: { "gcr.io": { username: "u", password: "p" } },
    });
    expect(() =>
      decodeStrict('{"kind":"CredentialProviderResponse","apiVersion":"x","cacheKeyType":"Registry","auth":{},"extra":1}', "x"),
    ).toThrow("unknown field");
    expect(() =>
      decodeStrict('{"kind":"CredentialProviderResponse","apiVersion":"x","apiVersion":"x","cacheKeyType":"Registry"}', "x"),
    ).toThrow("duplicate");
  });

  test("kubelet glob matching: one label per *, ports equal, path prefix", () => {
    expect(kubeletMatches("*.azurecr.io", "myreg.azurecr.io/app")).toBe(true);
    expect(kubeletMatches("*.azurecr.io", "myreg.westeurope.geo.azurecr.io/app")).toBe(false);
    expect(kubeletMatches("*.*.geo.azurecr.io", "myreg.westeurope.geo.azurecr.io/app")).toBe(true);
    expect(kubeletMatches("*.azurecr.io", "myreg.azurecr.io.evil.com/app")).toBe(false);
    expect(kubeletMatches("gcr.io", "gcr.io:443/app")).toBe(false);
    expect(kubeletMatches("registry.local:5000", "registry.local:5000/a")).toBe(true);
    expect(kubeletMatches("*-docker.pkg.dev", "europe-west1-docker.pkg.dev/p/r")).toBe(true);
    expect(kubeletMatches("registry.io/team", "registry.io/other/app")).toBe(false);
  });
});
