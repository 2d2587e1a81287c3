// Which hosts are Google's container registries. Pure and light: the gcr
// provider module imports this on every start, so no SDK and no I/O here.
//
// Matching is on whole labels (docs/providers/gcr.md): upstream's old
// `HasSuffix(host, "gcr.io")` accepted `evilgcr.io`; here a host is GCR only
// when it is `gcr.io` or exactly one label under it.

import { GCLOUD_ARTIFACT_REGISTRY_HOSTS, GCLOUD_DEFAULT_REGISTRIES } from "./registries.ts";

export type GcrHost =
  | { kind: "gcr"; host: string }
  | { kind: "artifact-registry"; location: string }
  | { kind: "artifact-registry-regional"; location: string }
  | { kind: "container.cloud.google.com" };

// `hostname` arrives lower-cased and validated label by label (src/registry.ts),
// so `[a-z0-9_-]` inside a label is all that can occur here.
const GCR = /^(?:[a-z0-9][a-z0-9_-]*\.)?gcr\.io$/;
const ARTIFACT_REGISTRY = /^([a-z][a-z0-9-]*?)-docker\.pkg\.dev$/;
const ARTIFACT_REGISTRY_REGIONAL = /^docker\.([a-z][a-z0-9-]*)\.rep\.pkg\.dev$/;

export function matchGoogleRegistry(hostname: string): GcrHost | null {
  if (GCR.test(hostname)) return { kind: "gcr", host: hostname };
  const ar = ARTIFACT_REGISTRY.exec(hostname);
  if (ar) return { kind: "artifact-registry", location: ar[1]! };
  const rep = ARTIFACT_REGISTRY_REGIONAL.exec(hostname);
  if (rep) return { kind: "artifact-registry-regional", location: rep[1]! };
  if (hostname === "container.cloud.google.com") return { kind: "container.cloud.google.com" };
  return null;
}

/**
 * kubelet `matchImages`: a `*` is a glob inside one label (kubelet matches
 * label by label with Go's filepath.Match), so `*-docker.pkg.dev` is as tight
 * as the pattern above and covers no host outside Google's domains.
 */
export const KUBELET_MATCH_IMAGES: readonly string[] = [
  "gcr.io",
  "*.gcr.io",
  "*-docker.pkg.dev",
  "docker.*.rep.pkg.dev",
  "container.cloud.google.com",
];

/**
 * What `configure-docker` writes when no registry is named: the same hosts as
 * `gcloud auth configure-docker` (generated from the installed gcloud's list).
 */
export const DEFAULT_GCR_REGISTRIES: readonly string[] = GCLOUD_DEFAULT_REGISTRIES;

/**
 * Hosts `configure-docker --include-artifact-registry` adds: gcloud's Artifact
 * Registry list, multi-regional, regional and regional-endpoint
 * (`docker.<location>.rep.pkg.dev`) hosts. Refresh with
 * `bun scripts/gen-gcr-registries.ts` after updating gcloud.
 */
export const ARTIFACT_REGISTRY_HOSTS: readonly string[] = GCLOUD_ARTIFACT_REGISTRY_HOSTS;
