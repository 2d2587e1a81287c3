// Installers: the binary's own `install`, scripts/install, the node
// DaemonSet and the OKE cloud-init example. The manifests are validated by
// real tools: every Kubernetes object against the Kubernetes OpenAPI schemas,
// the cloud-config with Debian's `cloud-init schema`; and the install
// commands they contain are run for real against temporary directories
// standing in for the node's.

import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DIST, ROOT, peerTest, requireDist, runCommand } from "../support/env.ts";
import { kubeletMatches } from "../support/kubelet.ts";
import { unknownFieldErrors, validateManifest } from "../support/k8s-schema.ts";
import { type Doc, NAMES, expectInstalled, expectProviderConfig } from "../support/install.ts";

let dir: string;
beforeEach(() => {
  requireDist();
  dir = mkdtempSync(join(tmpdir(), "cch-install-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));
const env = () => ({ PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: join(dir, "home") });

describe("install", () => {
  test("the binary installs itself under the four names and writes a kubelet config", async () => {
    const bin = join(dir, "node/bin");
    const cfg = join(dir, "node/etc/config.yaml");
    const r = await runCommand([join(DIST, NAMES[1]!), "install", "--bin-dir", bin, "--kubelet-config", cfg], "", env());
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expectInstalled(bin);
    expect(statSync(cfg).mode & 0o777).toBe(0o644);
    const config = expectProviderConfig(cfg, ["ecr-login", "gcr", "acr", "oci"]);
    const gcr = config.providers.find((p: Doc) => p.name === "docker-credential-gcr");
    expect(gcr.matchImages.some((m: string) => kubeletMatches(m, "gcr.io/project/image"))).toBe(true);
    const v = await runCommand([join(bin, "docker-credential-acr"), "version"], "", env());
    expect(v.stdout).toStartWith("docker-credential-acr (cloud-credential-helpers)");
    // Again, over the installed files: idempotent.
    expect((await runCommand([join(bin, "docker-credential-oci"), "install", "--bin-dir", bin], "", env())).exitCode).toBe(0);
    expectInstalled(bin);
  });

  test("bad options change nothing on disk", async () => {
    const bin = join(dir, "nothing");
    for (const args of [
      ["install"],
      ["install", "--bin-dir", bin, "--providers", "nope", "--kubelet-config", join(dir, "c.yaml")],
      ["install", "--bogus"],
    ]) {
      const r = await runCommand([join(DIST, NAMES[0]!), ...args], "", env());
      expect(r.exitCode).toBe(1);
      expect(r.stderr.length).toBeGreaterThan(0);
    }
    expect(existsSync(bin)).toBe(false);
    expect(existsSync(join(dir, "c.yaml"))).toBe(false);
  });

  test("scripts/install puts the helpers in PREFIX/bin and can configure docker", async () => {
    const e = { ...env(), DOCKER_CONFIG: join(dir, "docker") };
    const r = await runCommand(
      [
        "sh",
        join(ROOT, "scripts/install"),
        "--prefix",
        join(dir, "prefix"),
        "--from",
        DIST,
        "--configure-docker",
        "--registries",
        "gcr.io,myreg.azurecr.io",
      ],
      "",
      e,
    );
    expect(r.exitCode).toBe(0);
    expectInstalled(join(dir, "prefix/bin"));
    expect(JSON.parse(readFileSync(join(dir, "docker/config.json"), "utf8")).credHelpers).toEqual({
      "gcr.io": "gcr",
      "myreg.azurecr.io": "acr",
    });
  });
});

describe("deploy/ manifests", () => {
  test("the node-installer DaemonSet is well formed and its install command works", async () => {
    const docs = Bun.YAML.parse(readFileSync(join(ROOT, "deploy/kubernetes/node-installer.yaml"), "utf8")) as Doc[];
    // Every object passes the Kubernetes OpenAPI schemas, with no field they do not know.
    for (const d of docs) expect(validateManifest(d)).toEqual([]);
    expect(await unknownFieldErrors(docs)).toEqual([]);
    const misspelt = structuredClone(docs);
    misspelt.find((d) => d.kind === "DaemonSet")!.spec.template.spec.initContainers[0].volumeMount = [];
    expect((await unknownFieldErrors(misspelt)).join("\n")).toContain("volumeMount");
    // Its RBAC is what configure kubelet --rbac prints for the audiences it names.
    const rbac = await runCommand(
      [join(DIST, NAMES[0]!), "configure", "kubelet", "--rbac", "--providers", "ecr-login,acr,oci"],
      "",
      { ...env(), CCH_CONFIG: join(dir, "none.json") },
    );
    expect(docs.filter((d) => d.kind.startsWith("ClusterRole"))).toEqual(
      rbac.stdout.split(/^---$/m).map((d) => Bun.YAML.parse(d) as Doc),
    );
    const ns = docs.find((d) => d.kind === "Namespace")!;
    const ds = docs.find((d) => d.kind === "DaemonSet")!;
    expect(ds.apiVersion).toBe("apps/v1");
    expect(ds.metadata.namespace).toBe(ns.metadata.name);
    const spec = ds.spec;
    for (const [k, v] of Object.entries(spec.selector.matchLabels)) expect(spec.template.metadata.labels[k]).toBe(v);
    const pod = spec.template.spec;
    const volumes = new Map<string, Doc>(pod.volumes.map((v: Doc) => [v.name, v]));
    const init = pod.initContainers[0];
    for (const c of [...pod.initContainers, ...pod.containers]) {
      expect(c.name).toMatch(/^[a-z0-9-]+$/);
      expect(typeof c.image).toBe("string");
      for (const m of c.volumeMounts ?? []) expect(volumes.has(m.name)).toBe(true);
    }
    // Run the init container's command for real, with the host paths mapped into a temp dir.
    const mounts = new Map<string, string>(
      init.volumeMounts.map((m: Doc) => [m.mountPath, join(dir, volumes.get(m.name)!.hostPath.path)]),
    );
    const remap = (arg: string) => {
      for (const [from, to] of mounts) if (arg.includes(from)) return arg.replace(from, to);
      return arg;
    };
    const [, ...args] = init.command as string[];
    const r = await runCommand([join(DIST, NAMES[0]!), ...args.map(remap)], "", env());
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    const binDir = join(dir, volumes.get("provider-bin")!.hostPath.path);
    expectInstalled(binDir);
    expectProviderConfig(join(dir, volumes.get("provider-config")!.hostPath.path, "config.yaml"), [
      "ecr-login",
      "gcr",
      "acr",
      "oci",
    ]);
    // The kubelet flags in the header comment name the same two paths.
    const header = readFileSync(join(ROOT, "deploy/kubernetes/node-installer.yaml"), "utf8");
    expect(header).toContain(`--image-credential-provider-bin-dir=${volumes.get("provider-bin")!.hostPath.path}`);
    expect(header).toContain(`--image-credential-provider-config=${volumes.get("provider-config")!.hostPath.path}/config.yaml`);
  });

  peerTest(["cloud-init"], "cloud-init schema accepts the OKE cloud-config (and rejects an unquoted \": \" entry)", async () => {
    const file = join(ROOT, "deploy/oke/cloud-init.yaml");
    const ok = await runCommand(["cloud-init", "schema", "-c", file], "", env());
    expect(`${ok.stdout}${ok.stderr}`).toContain("Valid cloud-config");
    expect(ok.exitCode).toBe(0);
    // The check has teeth: the entry as it once was is refused.
    const broken = join(dir, "broken.yaml");
    await Bun.write(broken, readFileSync(file, "utf8").replace(/^  - '(curl .*)'$/m, "  - $1"));
    const bad = await runCommand(["cloud-init", "schema", "-c", broken], "", env());
    expect(bad.exitCode).not.toBe(0);
  });

  test("the OKE cloud-init downloads the archive the release build makes", () => {
    const script = readFileSync(join(ROOT, "deploy/oke/cloud-init.yaml"), "utf8");
    const release = readFileSync(join(ROOT, "scripts/release.ts"), "utf8");
    expect(script).toContain("tarball=cloud-credential-helpers-${target}.tar.gz");
    expect(release).toContain('const PREFIX = "cloud-credential-helpers"');
    expect(release).toContain("const gz = `${PREFIX}-${target.name}.tar.gz`;");
    // The targets the script picks exist, and the archive holds <target>/<helper>, which the script runs.
    for (const target of ["linux-x64", "linux-arm64"]) expect(release).toContain(`name: "${target}"`);
    expect(script).toContain('"./${target}/docker-credential-oci" install');
    expect(release).toContain("members.map((m) => `${target.name}/${m}`)");
  });

  test("the OKE cloud-init example is valid cloud-config and its install step works", async () => {
    const text = readFileSync(join(ROOT, "deploy/oke/cloud-init.yaml"), "utf8");
    expect(text.startsWith("#cloud-config\n")).toBe(true);
    const doc = Bun.YAML.parse(text) as Doc;
    const script: string = doc.write_files[0].content;
    expect(doc.runcmd[0]).toBe(doc.write_files[0].path);
    const install = script
      .slice(script.indexOf('"./${target}/docker-credential-oci" install'))
      .split("\n")
      .slice(0, 4)
      .join(" ")
      .replace(/\\/g, " ");
    const args = install.split(/\s+/).filter(Boolean).slice(2);
    const mapped = args.map((a) => (a.startsWith("/") ? join(dir, a) : a));
    const r = await runCommand([join(DIST, "docker-credential-oci"), "install", ...mapped], "", env());
    expect(r.exitCode).toBe(0);
    expectProviderConfig(join(dir, "/etc/kubernetes/credential-providers/config.yaml"), ["oci"]);
    expect(doc.runcmd[2]).toContain("--image-credential-provider-config=/etc/kubernetes/credential-providers/config.yaml");
    expect(doc.runcmd[2]).toContain("--image-credential-provider-bin-dir=/usr/local/libexec/kubernetes/credential-providers");
  });
});
