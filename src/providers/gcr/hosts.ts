// Which hosts are Google's container registries. Pure and light: the gcr
// provider module imports this on every start, so no SDK and no I/O here.
//
// Matching is on whole labels (docs/providers/gcr.md): upstream's old
// `HasSuffix(host, "gcr.io")` accepted `evilgcr.io`; here a host is GCR only
// when it is `gcr.io` or exactly one label under it.

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

/** What `configure-docker` writes when no registry is named (upstream's list). */
export const DEFAULT_GCR_REGISTRIES: readonly string[] = [
  "gcr.io",
  "us.gcr.io",
  "eu.gcr.io",
  "asia.gcr.io",
  "marketplace.gcr.io",
];

// Artifact Registry Docker locations, multi-regional and regional, with the
// regional-endpoint (`docker.<location>.rep.pkg.dev`) names where they exist.
// From the Google Cloud SDK's googlecloudsdk/core/docker/constants.py
// (REGIONAL_AR_REGISTRIES), which `gcloud auth configure-docker` uses.
const AR_LOCATIONS_WITH_REP = [
  "africa-south1",
  "asia-east1",
  "asia-east2",
  "asia-northeast1",
  "asia-northeast2",
  "asia-northeast3",
  "asia-south1",
  "asia-south2",
  "asia-southeast1",
  "asia-southeast2",
  "australia-southeast1",
  "australia-southeast2",
  "europe-central2",
  "europe-north1",
  "europe-southwest1",
  "europe-west1",
  "europe-west10",
  "europe-west12",
  "europe-west2",
  "europe-west3",
  "europe-west4",
  "europe-west6",
  "europe-west8",
  "europe-west9",
  "me-central1",
  "me-central2",
  "me-west1",
  "northamerica-northeast1",
  "northamerica-northeast2",
  "southamerica-east1",
  "southamerica-west1",
  "us-central1",
  "us-central2",
  "us-east1",
  "us-east4",
  "us-east5",
  "us-east7",
  "us-south1",
  "us-west1",
  "us-west2",
  "us-west3",
  "us-west4",
];
const AR_LOCATIONS_WITHOUT_REP = ["asia", "europe", "us", "europe-north2", "northamerica-south1", "us-west8"];

/** Hosts `configure-docker --include-artifact-registry` adds. */
export const ARTIFACT_REGISTRY_HOSTS: readonly string[] = [
  ...[...AR_LOCATIONS_WITH_REP, ...AR_LOCATIONS_WITHOUT_REP].map((l) => `${l}-docker.pkg.dev`),
  ...AR_LOCATIONS_WITH_REP.map((l) => `docker.${l}.rep.pkg.dev`),
].sort();
