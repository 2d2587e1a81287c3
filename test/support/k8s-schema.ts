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
