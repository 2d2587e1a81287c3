// Checks shared by the installer tests: the four helpers installed as
// hardlinks of one executable, and a well-formed kubelet CredentialProviderConfig.

import { expect } from "bun:test";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { HELPER_NAMES } from "../../src/providers/index.ts";
import { NEWEST, validateCredentialProviderConfig } from "./kubelet-config.ts";

export const NAMES = HELPER_NAMES;

export type Doc = Record<string, any>; // parsed YAML: shape checked by the assertions

export function expectInstalled(binDir: string) {
  const inodes = new Set(NAMES.map((n) => statSync(join(binDir, n)).ino));
  expect(inodes.size).toBe(1);
  expect(statSync(join(binDir, NAMES[0]!)).mode & 0o777).toBe(0o755);
}

export function expectProviderConfig(file: string, providers: string[]) {
  const config = Bun.YAML.parse(readFileSync(file, "utf8")) as Doc;
  expect(config.apiVersion).toBe("kubelet.config.k8s.io/v1");
  expect(config.kind).toBe("CredentialProviderConfig");
  expect(config.providers.map((p: Doc) => p.name)).toEqual(providers.map((p) => `docker-credential-${p}`));
  for (const p of config.providers) {
    expect(p.matchImages.length).toBeGreaterThan(0);
    expect(p.defaultCacheDuration).toMatch(/^(\d+h)?(\d+m)?(\d+s)?$/);
    expect(p.apiVersion).toBe("credentialprovider.kubelet.k8s.io/v1");
  }
  expect(validateCredentialProviderConfig(config, NEWEST)).toEqual([]);
  return config;
}

/** The node-installer DaemonSet: its init container and the host path behind each of its mounts. */
export function nodeInstaller(root: string): { init: Doc; hostPaths: Map<string, string>; docs: Doc[] } {
  const docs = Bun.YAML.parse(readFileSync(join(root, "deploy/kubernetes/node-installer.yaml"), "utf8")) as Doc[];
  const ds = docs.find((d) => d.kind === "DaemonSet")!;
  const pod = ds.spec.template.spec;
  const volumes = new Map<string, Doc>(pod.volumes.map((v: Doc) => [v.name, v]));
  const init = pod.initContainers[0];
  const hostPaths = new Map<string, string>(
    init.volumeMounts.map((m: Doc) => [m.mountPath, volumes.get(m.name)!.hostPath.path as string]),
  );
  return { init, hostPaths, docs };
}
