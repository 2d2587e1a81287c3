// Kubelet credential provider conformance: the helpers run exactly as kubelet
// runs them, and every answer passes kubelet's strict decoding.

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { DIST, ROOT, makeTestEnv, requireDist, runCommand, type TestEnv } from "../support/env.ts";
import { decodeStrict, kubeletMatches, runAsKubelet, serviceAccountToken } from "../support/kubelet.ts";
import { startCountingServer, type CountingServer } from "../fixtures/counting-server.ts";

const V1 = "credentialprovider.kubelet.k8s.io/v1";
const VERSIONS = [V1, "credentialprovider.kubelet.k8s.io/v1beta1", "credentialprovider.kubelet.k8s.io/v1alpha1"];
const HELPERS = ["ecr-login", "gcr", "acr", "oci"] as const;
const COUNTING = [process.execPath, join(ROOT, "test/fixtures/counting-helper.ts")];
const request = (image: string, apiVersion = V1, extra: object = {}) => ({
  kind: "CredentialProviderRequest",
  apiVersion,
  image,
  ...extra,
});

const saToken = (namespace: string, name: string, uid: string, nonce = "n") =>
  serviceAccountToken(namespace, name, uid, { nonce });

let t: TestEnv;
let server: CountingServer;
beforeAll(() => {
  requireDist();
  server = startCountingServer();
});
afterAll(() => server.stop());
beforeEach(() => {
  t = makeTestEnv();
  server.calls = 0;
  server.identities = [];
  server.mode = "ok";
});
afterEach(() => t.cleanup());

describe("kubelet mode through the built binaries", () => {
  test.each(HELPERS)(
    "%s: an image that is not its cloud's gets empty auth and 0s, exit 0, for every apiVersion and invocation",
    async (h) => {
      const bin = join(DIST, `docker-credential-${h}`);
      for (const apiVersion of VERSIONS) {
        for (const argv of [[bin, "get-credentials"], [bin], [bin, "get"], [bin, "kubelet"]]) {
          const r = await runAsKubelet(argv, t.env, request("docker.io/library/nginx", apiVersion));
          expect({ argv: argv.slice(1), code: r.exitCode, stderr: r.stderr }).toEqual({
            argv: argv.slice(1),
            code: 0,
            stderr: "",
          });
          const d = decodeStrict(r.stdout, apiVersion);
          expect(d.auth).toEqual({});
          expect(d.cacheDurationMs).toBe(0);
          expect(d.cacheKeyType).toBe("Registry");
        }
      }
    },
  );

  test("a malformed request is exit 1 with one line on stderr and nothing on stdout", async () => {
    for (const body of [
      '{"kind":"CredentialProviderRequest","apiVersion":"v9","image":"x"}',
      '{"kind":"CredentialProviderRequest"',
    ]) {
      const r = await runCommand([join(DIST, "docker-credential-gcr"), "get-credentials"], body + "\n", t.env);
      expect(r.exitCode).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr.trim().split("\n").length).toBe(1);
    }
  });

  test("configure kubelet prints a CredentialProviderConfig whose provider names are the binaries", async () => {
    const r = await runCommand(
      [join(DIST, "docker-credential-gcr"), "configure", "kubelet", "--format", "json", "--providers", "gcr"],
      "",
      t.env,
    );
    if (r.exitCode !== 0) expect(r.stderr).toContain("has no kubelet matchImages yet");
    else {
      const c = JSON.parse(r.stdout);
      expect(c.kind).toBe("CredentialProviderConfig");
      expect(c.providers[0].name).toBe("docker-credential-gcr");
    }
    const sa = await runCommand(
      [
        join(DIST, "docker-credential-gcr"),
        "configure",
        "kubelet",
        "--format=json",
        "--service-account-token-audience",
        "my-project.svc.id.goog",
      ],
      "",
      t.env,
    );
    expect(JSON.parse(sa.stdout).providers[0].tokenAttributes).toMatchObject({
      serviceAccountTokenAudience: "my-project.svc.id.goog",
      cacheType: "ServiceAccount",
    });
    // kubelet refuses requireServiceAccount: false when annotation keys are required (ACR's are).
    const acr = await runCommand(
      [join(DIST, "docker-credential-acr"), "configure", "kubelet", "--format=json", "--service-account-tokens"],
      "",
      t.env,
    );
    const acrAttrs = JSON.parse(acr.stdout).providers[0].tokenAttributes;
    expect(acrAttrs.requiredServiceAccountAnnotationKeys.length).toBeGreaterThan(0);
    expect(acrAttrs.requireServiceAccount).toBe(true);
    const oci = await runCommand(
      [join(DIST, "docker-credential-oci"), "configure", "kubelet", "--format=json", "--service-account-tokens"],
      "",
      t.env,
    );
    const ociEnv = JSON.parse(oci.stdout).providers[0].env as Array<{ name: string; value: string }>;
    expect(ociEnv.map((e) => e.name)).toContain("CCH_OCI_PROXYMUX_URL");
    const bad = await runCommand([join(DIST, "docker-credential-gcr"), "configure", "kubelet", "--providers", "nope"], "", t.env);
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toContain("unknown provider nope");
  });
});

describe("kubelet mode over a provider (counting fake)", () => {
  const env = () => ({ ...t.env, COUNTING_URL: server.url });

  test("answers with auth keyed by the bare host, Registry cache key, and a duration within the token's life", async () => {
    for (const image of [
      "a.counting.test/team/app",
      "a.counting.test/team/app:v1",
      "a.counting.test:443/app@sha256:" + "c".repeat(64),
    ]) {
      const r = await runAsKubelet([...COUNTING, "get-credentials"], env(), request(image));
      expect(r.stderr).toBe("");
      const d = decodeStrict(r.stdout, V1);
      const key = image.startsWith("a.counting.test:443") ? "a.counting.test:443" : "a.counting.test";
      expect(Object.keys(d.auth)).toEqual([key]);
      expect(kubeletMatches(key, image)).toBe(true);
      expect(d.auth[key]!.username).toBe("counter");
      expect(d.cacheDurationMs).toBeGreaterThan(0);
      expect(d.cacheDurationMs!).toBeLessThanOrEqual(3600_000 / 2);
    }
  });

  test("many images on one registry in parallel (kubelet does not coalesce them) make one cloud call", async () => {
    server.delayMs = 200;
    const rs = await Promise.all(
      Array.from({ length: 12 }, (_, i) => runAsKubelet([...COUNTING], env(), request(`race.counting.test/app${i}`))),
    );
    server.delayMs = 0;
    expect(server.calls).toBe(1);
    for (const r of rs) expect(Object.keys(decodeStrict(r.stdout, V1).auth)).toEqual(["race.counting.test"]);
  });

  test("one margin on both paths: a token with at least 10 s left is served, kubelet's cache ending before it expires", async () => {
    try {
      server.expiresInSeconds = 30;
      const k = await runAsKubelet([...COUNTING, "get-credentials"], { ...env(), CCH_DISABLE_CACHE: "true" }, request("m.counting.test/app"));
      expect(k.stderr).toBe("");
      const d = decodeStrict(k.stdout, V1);
      expect(d.cacheDurationMs!).toBeGreaterThan(0);
      expect(d.cacheDurationMs!).toBeLessThanOrEqual(15_000);
      const docker = await runCommand([...COUNTING, "get"], "m.counting.test", { ...env(), CCH_DISABLE_CACHE: "true" });
      expect(docker.exitCode).toBe(0);
      expect(JSON.parse(docker.stdout).Username).toBe("counter");
      // Under the margin: refused on the kubelet path rather than handed out to expire in use.
      server.expiresInSeconds = 5;
      const short = await runAsKubelet([...COUNTING, "get-credentials"], { ...env(), CCH_DISABLE_CACHE: "true" }, request("m.counting.test/app"));
      expect(short.exitCode).toBe(1);
      expect(short.stdout).toBe("");
      expect(short.stderr).toContain("too close to its expiry");
    } finally {
      server.expiresInSeconds = 3600;
    }
  });

  test("a request with only an image (typed by hand) is a v1 request, on get and with no arguments", async () => {
    for (const argv of [[...COUNTING, "get"], [...COUNTING]]) {
      const r = await runCommand(argv, JSON.stringify({ image: "seed.counting.test/my-image" }) + "\n", env());
      expect({ code: r.exitCode, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
      const d = decodeStrict(r.stdout, V1);
      expect(Object.keys(d.auth)).toEqual(["seed.counting.test"]);
    }
    // A Docker get still reads a server URL.
    const docker = await runCommand([...COUNTING, "get"], "seed.counting.test", env());
    expect(JSON.parse(docker.stdout).ServerURL).toBe("seed.counting.test");
  });

  test("a failure is exit 1, one line on stderr, nothing on stdout", async () => {
    server.mode = "fail";
    const r = await runAsKubelet([...COUNTING, "get-credentials"], env(), request("b.counting.test/app"));
    expect(r).toEqual({ stdout: "", stderr: "docker-credential-counting: Counting test registry: counting server answered HTTP 500\n", exitCode: 1 });
  });

  test("service account tokens: each pod identity gets its own credential, cached per service account", async () => {
    const alice = saToken("team-a", "puller", "uid-a", "1");
    const alice2 = saToken("team-a", "puller", "uid-a", "2"); // the same SA after token rotation
    const bob = saToken("team-b", "puller", "uid-b", "3");
    const ask = (token: string) =>
      runAsKubelet(
        [...COUNTING, "get-credentials"],
        env(),
        request("sa.counting.test/app", V1, { serviceAccountToken: token, serviceAccountAnnotations: {} }),
      );
    const node = decodeStrict((await runAsKubelet([...COUNTING], env(), request("sa.counting.test/app"))).stdout, V1);
    const a = decodeStrict((await ask(alice)).stdout, V1);
    const b = decodeStrict((await ask(bob)).stdout, V1);
    const a2 = decodeStrict((await ask(alice2)).stdout, V1);
    const pw = (d: ReturnType<typeof decodeStrict>) => d.auth["sa.counting.test"]!.password;
    expect(new Set([pw(node), pw(a), pw(b)]).size).toBe(3);
    expect(pw(a2)).toBe(pw(a)); // cached for the service account, not per token
    expect(server.calls).toBe(3);
    for (const d of [a, b]) expect([alice, bob, alice2]).not.toContain(pw(d));
  });

  test("a stored node login is never handed out in service-account mode", async () => {
    await runCommand([...COUNTING, "store"], '{"ServerURL":"st.counting.test","Username":"node","Secret":"node-secret"}', env());
    const nodeAnswer = decodeStrict((await runAsKubelet([...COUNTING], env(), request("st.counting.test/app"))).stdout, V1);
    expect(nodeAnswer.auth["st.counting.test"]!.password).toBe("node-secret");
    const pod = await runAsKubelet(
      [...COUNTING],
      env(),
      request("st.counting.test/app", V1, { serviceAccountToken: saToken("ns", "sa", "u") }),
    );
    expect(decodeStrict(pod.stdout, V1).auth["st.counting.test"]!.password).not.toBe("node-secret");
  });

  test("the service account token itself is never returned as a password", async () => {
    const token = saToken("ns", "echo", "uid-e");
    const r = await runAsKubelet(
      [...COUNTING],
      { ...env(), COUNTING_ECHO_SA: "1", CCH_DISABLE_CACHE: "1" },
      request("e.counting.test/app", V1, { serviceAccountToken: token }),
    );
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("refusing to return the service account token");
    expect(r.stderr).not.toContain(token);
  });
});
