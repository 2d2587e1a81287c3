// Kubernetes manifests checked against the Kubernetes OpenAPI schemas, as
// kubernetes-models ships them (generated from the Kubernetes release's
// OpenAPI definitions, compiled validators; no network). A manifest kind the
// table does not know is an error, so nothing slips through unchecked.

import { Namespace } from "kubernetes-models/v1/Namespace";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import { DaemonSet } from "kubernetes-models/apps/v1/DaemonSet";
import { ClusterRole } from "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole";
import { ClusterRoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding";

type Model = { validate(): void };
const MODELS: Record<string, new (data: any) => Model> = {
  "v1/Namespace": Namespace,
  "v1/ServiceAccount": ServiceAccount,
  "apps/v1/DaemonSet": DaemonSet,
  "rbac.authorization.k8s.io/v1/ClusterRole": ClusterRole,
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": ClusterRoleBinding,
};

/** The schema errors of one manifest (empty: valid). */
export function validateManifest(doc: Record<string, unknown>): string[] {
  const key = `${String(doc.apiVersion)}/${String(doc.kind)}`;
  const Model = MODELS[key];
  if (!Model) return [`no schema here for ${key}`];
  try {
    new Model(doc).validate();
    return [];
  } catch (err) {
    return [`${key} ${String((doc.metadata as { name?: string } | undefined)?.name)}: ${(err as Error).message}`];
  }
}

const TYPES: Record<string, [module: string, type: string]> = {
  "v1/Namespace": ["kubernetes-models/v1/Namespace", "INamespace"],
  "v1/ServiceAccount": ["kubernetes-models/v1/ServiceAccount", "IServiceAccount"],
  "apps/v1/DaemonSet": ["kubernetes-models/apps/v1/DaemonSet", "IDaemonSet"],
  "rbac.authorization.k8s.io/v1/ClusterRole": ["kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole", "IClusterRole"],
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": [
    "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding",
    "IClusterRoleBinding",
  ],
};

/**
 * Unknown fields, which the compiled validators let through but the API
 * server's strict field validation refuses: each manifest is written as an
 * object literal of its schema's type and type-checked, so an excess
 * property anywhere is an error. Returns tsc's diagnostics (empty: none).
 */
export async function unknownFieldErrors(docs: Array<Record<string, unknown>>): Promise<string[]> {
  const { mkdtempSync, rmSync, writeFileSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { ROOT, runCommand } = await import("./env.ts");
  // Inside node_modules, so the file resolves kubernetes-models like the tests do.
  const dir = mkdtempSync(join(ROOT, "node_modules", ".cch-schema-"));
  try {
    const lines: string[] = [];
    docs.forEach((doc, i) => {
      const key = `${String(doc.apiVersion)}/${String(doc.kind)}`;
      const t = TYPES[key];
      if (!t) throw new Error(`no schema type here for ${key}`);
      lines.push(`import type { ${t[1]} as T${i} } from "${t[0]}";`);
      lines.push(`export const d${i}: T${i} = ${JSON.stringify(doc)};`);
    });
    const file = join(dir, "manifests.ts");
    writeFileSync(file, lines.join("\n") + "\n");
    const r = await runCommand(
      [join(ROOT, "node_modules/.bin/tsc"), "--ignoreConfig", "--noEmit", "--strict", "--skipLibCheck", "--module", "esnext", "--moduleResolution", "bundler", "--target", "es2022", file],
      "",
      { PATH: process.env.PATH ?? "/usr/bin:/bin" },
      { cwd: ROOT, timeoutMs: 120_000 },
    );
    return r.exitCode === 0 ? [] : (r.stdout + r.stderr).trim().split("\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
