// `configure kubelet` and `install` write CredentialProviderConfigs that the
// targeted kubelet version accepts: every output goes through the strict
// per-version validator (test/support/kubelet-config.ts), and the RBAC it
// prints through the Kubernetes OpenAPI schemas (kubernetes-models).

import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DIST, makeTestEnv, requireDist, runCommand, type TestEnv } from "../support/env.ts";
import { NEWEST, OLDEST, validateCredentialProviderConfig } from "../support/kubelet-config.ts";
import { kubeletMatches } from "../support/kubelet.ts";
import { unknownFieldErrors, validateManifest } from "../support/k8s-schema.ts";

const ALL = "ecr-login,gcr,acr,oci";
const COMPLETE = [
  "--gcr-identity-provider",
  "https://container.googleapis.com/v1/projects/my-proj/locations/europe-west1/clusters/c1",
  "--gcr-workload-pool",
  "my-proj.svc.id.goog",
  "--oci-proxymux-url",
  "https://10.0.0.10:12250",
];
type Doc = Record<string, any>; // parsed YAML/JSON, checked by the validator and assertions

let t: TestEnv;
beforeEach(() => {
  requireDist();
  t = makeTestEnv();
});
afterEach(() => t.cleanup());

const bin = (h = "gcr") => join(DIST, `docker-credential-${h}`);
async function configure(args: string[], helper = "gcr") {
  return runCommand([bin(helper), "configure", "kubelet", ...args], "", t.env);
}
async function configJson(args: string[], helper = "gcr"): Promise<{ doc: Doc; stderr: string }> {
  const r = await configure(["--format", "json", ...args], helper);
  if (r.exitCode !== 0) throw new Error(`configure kubelet ${args.join(" ")}: ${r.stderr}`);
  return { doc: JSON.parse(r.stdout) as Doc, stderr: r.stderr };
}
const byName = (doc: Doc, p: string) => doc.providers.find((x: Doc) => x.name === `docker-credential-${p}`);
const versions = Array.from({ length: NEWEST - OLDEST + 1 }, (_, i) => OLDEST + i);

describe("the validator itself (written from the upstream types)", () => {
  const base = { name: "p", matchImages: ["*.example.com"], defaultCacheDuration: "1h", apiVersion: "credentialprovider.kubelet.k8s.io/v1" };
  const cfg = (p: object) => ({ apiVersion: "kubelet.config.k8s.io/v1", kind: "CredentialProviderConfig", providers: [{ ...base, ...p }] });
  const attrs = { serviceAccountTokenAudience: "a", requireServiceAccount: false };
  test("accepts what each version knows and refuses what it does not", () => {
    expect(validateCredentialProviderConfig(cfg({}), 26)).toEqual([]);
    expect(validateCredentialProviderConfig(cfg({ tokenAttributes: attrs }), 32).join()).toContain('unknown field "tokenAttributes"');
    expect(validateCredentialProviderConfig(cfg({ tokenAttributes: attrs }), 33, { featureGate: true })).toEqual([]);
    expect(validateCredentialProviderConfig(cfg({ tokenAttributes: attrs }), 33).join()).toContain("feature gate is disabled");
    expect(validateCredentialProviderConfig(cfg({ tokenAttributes: { ...attrs, cacheType: "ServiceAccount" } }), 33, { featureGate: true }).join()).toContain(
      'unknown field "cacheType"',
    );
    expect(validateCredentialProviderConfig(cfg({ tokenAttributes: attrs }), 34).join()).toContain("cacheType: required");
    expect(validateCredentialProviderConfig(cfg({ tokenAttributes: { ...attrs, cacheType: "ServiceAccount" } }), 34)).toEqual([]);
    expect(validateCredentialProviderConfig(cfg({ bogus: 1 }), 36).join()).toContain('unknown field "bogus"');
    expect(validateCredentialProviderConfig(cfg({ matchImages: ["https://x.io"] }), 36).join()).toContain("scheme");
    expect(validateCredentialProviderConfig(cfg({ defaultCacheDuration: undefined }), 36).join()).toContain("defaultCacheDuration: required");
    expect(
      validateCredentialProviderConfig(cfg({ tokenAttributes: { ...attrs, cacheType: "Token", requiredServiceAccountAnnotationKeys: ["a/b"] } }), 34).join(),
    ).toContain("requireServiceAccount cannot be false");
  });
});

describe("configure kubelet --kubernetes-version", () => {
  test("without service account tokens every version 1.26 … newest accepts the config for all four providers", async () => {
    for (const v of versions) {
      const { doc } = await configJson(["--providers", ALL, "--kubernetes-version", `1.${v}`]);
      expect({ v, errors: validateCredentialProviderConfig(doc, v) }).toEqual({ v, errors: [] });
    }
  });

  test("service account tokens: 1.33 without cacheType (and the feature gate named), 1.34+ with it; older versions refused", async () => {
    for (const v of versions.filter((x) => x >= 33)) {
      const { doc, stderr } = await configJson(["--providers", ALL, "--service-account-tokens", "--kubernetes-version", `1.${v}`, ...COMPLETE]);
      expect({ v, errors: validateCredentialProviderConfig(doc, v, { featureGate: true }) }).toEqual({ v, errors: [] });
      for (const p of doc.providers) expect(p.tokenAttributes.cacheType).toBe(v >= 34 ? "ServiceAccount" : undefined);
      expect(stderr.includes("KubeletServiceAccountTokenForCredentialProviders=true")).toBe(v === 33);
      expect(stderr).not.toContain("placeholder");
    }
    // The default is the newest version.
    const newest = await configJson(["--providers", ALL, "--service-account-tokens", ...COMPLETE]);
    expect(validateCredentialProviderConfig(newest.doc, NEWEST)).toEqual([]);
    const old = await configure(["--service-account-tokens", "--kubernetes-version", "1.32"]);
    expect(old.exitCode).toBe(1);
    expect(old.stderr).toContain("need Kubernetes 1.33 or newer");
    for (const bad of ["1.25", "1.99", "2.0", "latest"]) {
      const r = await configure(["--kubernetes-version", bad]);
      expect(r.exitCode).toBe(1);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
    // YAML output says the same as JSON.
    const yaml = await configure(["--providers", ALL, "--service-account-tokens", "--kubernetes-version", "1.33", ...COMPLETE]);
    expect(validateCredentialProviderConfig(Bun.YAML.parse(yaml.stdout), 33, { featureGate: true })).toEqual([]);
  });

  test("each provider keeps its own audience; PROVIDER=AUDIENCE changes one; a bare audience only with one provider", async () => {
    const { doc } = await configJson(["--providers", ALL, "--service-account-token-audience", "gcr=other-proj.svc.id.goog", ...COMPLETE]);
    expect(byName(doc, "ecr-login").tokenAttributes.serviceAccountTokenAudience).toBe("sts.amazonaws.com");
    expect(byName(doc, "acr").tokenAttributes.serviceAccountTokenAudience).toBe("api://AzureADTokenExchange");
    expect(byName(doc, "gcr").tokenAttributes.serviceAccountTokenAudience).toBe("other-proj.svc.id.goog");
    expect(byName(doc, "oci").tokenAttributes.serviceAccountTokenAudience).toBe("https://kubernetes.default.svc.cluster.local");
    // --gcr-workload-pool is also Google's audience when none is given.
    const pool = await configJson(["--providers", "gcr", ...COMPLETE.slice(0, 4)]);
    expect(byName(pool.doc, "gcr").tokenAttributes.serviceAccountTokenAudience).toBe("my-proj.svc.id.goog");
    const bare = await configJson(["--service-account-token-audience", "my-proj.svc.id.goog", ...COMPLETE.slice(0, 4)]);
    expect(byName(bare.doc, "gcr").tokenAttributes.serviceAccountTokenAudience).toBe("my-proj.svc.id.goog");
    const ambiguous = await configure(["--providers", "ecr-login,gcr", "--service-account-token-audience", "x.svc.id.goog"]);
    expect(ambiguous.exitCode).toBe(1);
    expect(ambiguous.stderr).toContain("PROVIDER=AUDIENCE");
    const absent = await configure(["--providers", "gcr", "--service-account-token-audience", "acr=api://x"]);
    expect(absent.exitCode).toBe(1);
  });

  test("cluster-specific values left out are placeholders, named with the flag that fills them", async () => {
    const r = await configure(["--providers", ALL, "--service-account-tokens", "--format", "json"]);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain("--gcr-identity-provider");
    expect(r.stderr).toContain("--gcr-workload-pool");
    expect(r.stderr).toContain("--oci-proxymux-url");
    const complete = await configJson(["--providers", "gcr,oci", ...COMPLETE]);
    expect(byName(complete.doc, "gcr").env).toEqual([
      { name: "CCH_GCR_IDENTITY_PROVIDER", value: COMPLETE[1] },
      { name: "CCH_GCR_WORKLOAD_POOL", value: "my-proj.svc.id.goog" },
    ]);
    expect(JSON.stringify(complete.doc)).not.toMatch(/<[^>]+>/);
  });

  test("--rbac prints one ClusterRole and binding per audience for system:nodes, valid against the Kubernetes schemas", async () => {
    const r = await configure(["--providers", ALL, "--rbac", ...COMPLETE]);
    expect(r.exitCode).toBe(0);
    const docs = r.stdout.split(/^---$/m).map((d) => Bun.YAML.parse(d) as Doc);
    expect(docs).toHaveLength(8);
    for (const d of docs) expect(validateManifest(d)).toEqual([]);
    expect(await unknownFieldErrors(docs)).toEqual([]);
    const roles = docs.filter((d) => d.kind === "ClusterRole");
    expect(roles.map((d) => d.rules[0].resources[0]).sort()).toEqual(
      ["api://AzureADTokenExchange", "https://kubernetes.default.svc.cluster.local", "my-proj.svc.id.goog", "sts.amazonaws.com"].sort(),
    );
    for (const role of roles) expect(role.rules[0]).toMatchObject({ apiGroups: [""], verbs: ["request-serviceaccounts-token-audience"] });
    for (const b of docs.filter((d) => d.kind === "ClusterRoleBinding")) expect(b.subjects).toEqual([
      { apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "system:nodes" },
    ]);
    // The same objects follow the config on stderr.
    const sa = await configure(["--providers", "ecr-login", "--service-account-tokens"]);
    expect(sa.stderr).toContain("request-serviceaccounts-token-audience");
    expect(validateCredentialProviderConfig(Bun.YAML.parse(sa.stdout), NEWEST)).toEqual([]);
  });

  test("hosts aliased in the configuration file are added to their provider's matchImages", async () => {
    t.writeConfig({
      registries: {
        "ecr.internal.example.com": { alias: "123456789012.dkr.ecr.eu-west-1.amazonaws.com" },
        "mirror.example.com:5000": { alias: "europe-west1-docker.pkg.dev" },
      },
    });
    const { doc } = await configJson(["--providers", "ecr-login,gcr"]);
    expect(byName(doc, "ecr-login").matchImages).toContain("ecr.internal.example.com");
    expect(byName(doc, "gcr").matchImages).toContain("mirror.example.com:5000");
    expect(byName(doc, "gcr").matchImages).not.toContain("ecr.internal.example.com");
    expect(kubeletMatches("mirror.example.com:5000", "mirror.example.com:5000/proj/app")).toBe(true);
    expect(validateCredentialProviderConfig(doc, NEWEST)).toEqual([]);
  });
});

describe("install writes only configurations the node's kubelet accepts", () => {
  const fakeKubelet = (root: string, version: string) => {
    mkdirSync(join(root, "usr/bin"), { recursive: true });
    writeFileSync(join(root, "usr/bin/kubelet"), `#!/bin/sh\necho "Kubernetes ${version}"\n`);
    chmodSync(join(root, "usr/bin/kubelet"), 0o755);
  };
  const install = (args: string[]) =>
    runCommand([bin("ecr-login"), "install", "--bin-dir", join(t.dir, "bin"), ...args], "", t.env);

  test("--host-root asks the node's kubelet for its version; 1.33 gets no cacheType, 1.34 does", async () => {
    for (const [version, minor] of [
      ["v1.33.4", 33],
      ["v1.34.1-eks-abc", 34],
    ] as const) {
      const root = join(t.dir, `root-${minor}`);
      fakeKubelet(root, version);
      const cfg = join(t.dir, `c-${minor}.yaml`);
      const r = await install(["--kubelet-config", cfg, "--host-root", root, "--service-account-tokens", ...COMPLETE]);
      expect(r.stderr).toBe("");
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toContain(`Kubernetes 1.${minor}`);
      const doc = Bun.YAML.parse(readFileSync(cfg, "utf8")) as Doc;
      expect(validateCredentialProviderConfig(doc, minor, { featureGate: true })).toEqual([]);
      expect(doc.providers.every((p: Doc) => (p.tokenAttributes.cacheType === undefined) === (minor === 33))).toBe(true);
    }
  });

  test("it never guesses the version, and never writes a placeholder; nothing is written then", async () => {
    const cfg = join(t.dir, "c.yaml");
    const noVersion = await install(["--kubelet-config", cfg, "--service-account-tokens", ...COMPLETE]);
    expect(noVersion.exitCode).toBe(1);
    expect(noVersion.stderr).toContain("--kubernetes-version");
    const noKubelet = await install(["--kubelet-config", cfg, "--service-account-tokens", "--host-root", join(t.dir, "empty"), ...COMPLETE]);
    expect(noKubelet.exitCode).toBe(1);
    expect(noKubelet.stderr).toContain("no kubelet under");
    const placeholder = await install(["--kubelet-config", cfg, "--service-account-tokens", "--kubernetes-version", "1.34"]);
    expect(placeholder.exitCode).toBe(1);
    expect(placeholder.stderr).toContain("refusing to write placeholders");
    expect(placeholder.stderr).toContain("--gcr-identity-provider");
    expect(placeholder.stderr).toContain("--oci-proxymux-url");
    expect(existsSync(cfg)).toBe(false);
    expect(existsSync(join(t.dir, "bin"))).toBe(false);
    // With the values given it writes.
    const ok = await install(["--kubelet-config", cfg, "--service-account-tokens", "--kubernetes-version", "1.34", ...COMPLETE]);
    expect(ok.exitCode).toBe(0);
    expect(validateCredentialProviderConfig(Bun.YAML.parse(readFileSync(cfg, "utf8")), 34)).toEqual([]);
  });

  test("--csi: binaries and a JSON config in one directory, as the container-image CSI driver expects", async () => {
    const dir = join(t.dir, "etc/kubernetes/image-credential-providers");
    const r = await runCommand([bin("ecr-login"), "install", "--csi", "--bin-dir", dir, "--providers", "ecr-login,acr"], "", t.env);
    expect(r.exitCode).toBe(0);
    const doc = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as Doc;
    expect(validateCredentialProviderConfig(doc, NEWEST)).toEqual([]);
    for (const p of doc.providers) expect(statSync(join(dir, p.name)).ino).toBe(statSync(join(dir, "docker-credential-ecr-login")).ino);
  });
});
