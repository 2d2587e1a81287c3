// Which CredentialProviderConfig fields (kubelet.config.k8s.io/v1) each
// Kubernetes minor version accepts. kubelet decodes its configuration
// strictly, so a field its version does not know stops it from starting:
//   1.26–1.32  name, matchImages, defaultCacheDuration, apiVersion, args, env
//   1.33       + tokenAttributes {serviceAccountTokenAudience, requireServiceAccount,
//                required/optionalServiceAccountAnnotationKeys}; alpha, behind the
//                KubeletServiceAccountTokenForCredentialProviders feature gate
//   1.34+      + tokenAttributes.cacheType (Token | ServiceAccount), required; beta, on by default

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

export const OLDEST_MINOR = 26;
export const NEWEST_MINOR = 36;
export const FEATURE_GATE = "KubeletServiceAccountTokenForCredentialProviders";

export interface KubeletFeatures {
  minor: number;
  /** tokenAttributes exists (service account tokens for image pulls). */
  tokenAttributes: boolean;
  /** tokenAttributes.cacheType exists, and is required. */
  cacheType: boolean;
  /** The feature gate must be turned on for tokenAttributes to be accepted. */
  needsFeatureGate: boolean;
}

export function featuresOf(minor: number): KubeletFeatures {
  return { minor, tokenAttributes: minor >= 33, cacheType: minor >= 34, needsFeatureGate: minor === 33 };
}

/** "1.33", "v1.33", "1.33.2", "v1.34.0-eks-1" → 33; an error message otherwise. */
export function parseKubernetesVersion(text: string): number | string {
  const m = /^v?1\.(\d+)(?:\.\d+)?(?:[-+][0-9A-Za-z.+-]*)?$/.exec(text.trim());
  const minor = m ? Number(m[1]) : NaN;
  if (!Number.isInteger(minor)) return `--kubernetes-version must look like 1.${NEWEST_MINOR} (got ${JSON.stringify(text)})`;
  if (minor < OLDEST_MINOR || minor > NEWEST_MINOR) {
    return `Kubernetes 1.${minor} is not supported: kubelet.config.k8s.io/v1 CredentialProviderConfig is known for 1.${OLDEST_MINOR} to 1.${NEWEST_MINOR}`;
  }
  return minor;
}

/** Where distributions put kubelet (kubeadm packages, most installers, GKE's COS, Bottlerocket-style images). */
export const KUBELET_PATHS = ["usr/bin/kubelet", "usr/local/bin/kubelet", "home/kubernetes/bin/kubelet", "opt/bin/kubelet"];

/**
 * The minor version of the host's kubelet, from `<root>/<path>/kubelet --version`
 * ("Kubernetes v1.33.2"). A string is an error naming what was tried.
 */
export function hostKubeletMinor(root: string, timeoutMs = 15_000): number | string {
  const found = KUBELET_PATHS.map((p) => join(root, p)).filter((p) => existsSync(p));
  if (found.length === 0) {
    return `no kubelet under ${root} (looked for ${KUBELET_PATHS.map((p) => "/" + p).join(", ")}); pass --kubernetes-version`;
  }
  const bin = found[0]!;
  const r = spawnSync(bin, ["--version"], { encoding: "utf8", timeout: timeoutMs, env: { PATH: "/usr/bin:/bin" } });
  const out = `${r.stdout ?? ""}`.trim();
  const m = /Kubernetes (v\d+\.\d+\S*)/.exec(out);
  if (r.status !== 0 || !m) return `could not read the version of ${bin} (${r.error?.message ?? `exit ${r.status}`}); pass --kubernetes-version`;
  return parseKubernetesVersion(m[1]!);
}
