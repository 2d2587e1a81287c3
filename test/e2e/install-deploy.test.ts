// Installers: the binary's own `install`, scripts/install, the node
// DaemonSet and the OKE cloud-init example. The manifests are validated
// structurally, and the install commands they contain are run for real
// against temporary directories standing in for the node's.

import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DIST, ROOT, requireDist, runCommand } from "../support/env.ts";
import { kubeletMatches } from "../support/kubelet.ts";
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
