// Since Kubernetes 1.33 a kubelet may request a service account token only for
// audiences that RBAC grants the node: the verb
// `request-serviceaccounts-token-audience` on the audience as the resource
// (core API group), bound to the group `system:nodes`. One ClusterRole and one
// ClusterRoleBinding per audience.

import type { YamlValue } from "./yaml.ts";

export const AUDIENCE_VERB = "request-serviceaccounts-token-audience";
const PREFIX = "cloud-credential-helpers-audience";

/** `audiences` maps each audience to the providers (by name) that ask for it. */
export function audienceRbac(audiences: ReadonlyMap<string, readonly string[]>): Array<Record<string, YamlValue>> {
  const docs: Array<Record<string, YamlValue>> = [];
  for (const [audience, providers] of audiences) {
    const name = `${PREFIX}-${providers.join("-")}`;
    const labels = { "app.kubernetes.io/name": "cloud-credential-helpers" };
    docs.push({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name, labels },
      rules: [{ apiGroups: [""], resources: [audience], verbs: [AUDIENCE_VERB] }],
    });
    docs.push({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "system:nodes" }],
    });
  }
  return docs;
}
