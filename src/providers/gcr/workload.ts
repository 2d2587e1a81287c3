// Kubelet service-account-token mode (KEP-4412) for Google, as
// cloud-provider-gcp's auth-provider-gcp does it (pkg/gcpcredential): the
// pod's Kubernetes service account token is exchanged at Google STS for a
// federated access token. Light and pure: read on every kubelet request to
// choose the path and the cache identity; the exchange itself is in sts.ts.
//
// Two ways to name the audience, as upstream's two k8sTypes:
// - GKE (upstream `--identity-provider` + `--project-id`): the audience is
//   `identitynamespace:<project>.svc.id.goog:<identity provider URL>`, and a
//   pod uses its own identity only when its service account carries
//   `iam.gke.io/enable-wi-image-pull: "true"`; otherwise the node's identity.
// - Self-managed workload identity federation (upstream `--k8sType
//   self-managed`): the audience is the pool provider
//   `//iam.googleapis.com/projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>`.
//   Here, too, the annotation is the opt-in (upstream exchanges every token
//   in this mode; we keep one rule for both, so adding the audience to a
//   node never silently changes what unannotated pods pull with).

import type { Context, ServiceAccountIdentity } from "../../provider.ts";
import { parseSecretEndpoint } from "../../endpoint.ts";

type Env = Context["env"];

/** The per-service-account opt-in, as upstream names it. */
export const ENABLE_WI_IMAGE_PULL_ANNOTATION = "iam.gke.io/enable-wi-image-pull";
export const GOOGLE_STS_ENDPOINT = "https://sts.googleapis.com/v1/token";

/**
 * What `configure kubelet --service-account-tokens` asks kubelet for. Google's
 * audience is per project (`<project>.svc.id.goog` for GKE, the pool
 * provider's allowed audience for self-managed federation), so the printed
 * value is a template for the operator to replace (a `<…>` placeholder,
 * which `install` refuses to write).
 */
export const KUBELET_TOKEN_AUDIENCE = "<PROJECT_ID>.svc.id.goog";

export const WORKLOAD_ENV = {
  identityProvider: "CCH_GCR_IDENTITY_PROVIDER",
  workloadPool: "CCH_GCR_WORKLOAD_POOL",
  projectId: "CCH_GCR_PROJECT_ID",
  audience: "CCH_GCR_WIF_AUDIENCE",
  stsEndpoint: "CCH_GCR_STS_ENDPOINT",
} as const;

const POOL_PROVIDER_AUDIENCE =
  /^\/\/iam\.googleapis\.com\/projects\/[^/\s]+\/locations\/global\/workloadIdentityPools\/[^/\s]+\/providers\/[^/\s]+$/;

export type WorkloadConfig = { ok: true; audience: string; stsEndpoint: string } | { ok: false; reason: string };

/** True when the pod's service account opted in (the value must be exactly "true", as upstream checks). */
export function podOptedIn(sa: ServiceAccountIdentity | undefined): sa is ServiceAccountIdentity {
  return sa !== undefined && sa.annotations[ENABLE_WI_IMAGE_PULL_ANNOTATION] === "true";
}

export function workloadConfig(env: Env): WorkloadConfig {
  const get = (name: string): string => (env[name] ?? "").trim();
  const stsEndpoint = get(WORKLOAD_ENV.stsEndpoint) || GOOGLE_STS_ENDPOINT;
  if (parseSecretEndpoint(stsEndpoint, { query: true }) === null) {
    return {
      ok: false,
      reason: `${WORKLOAD_ENV.stsEndpoint} must be an https:// URL (http:// only on 127.0.0.1 or [::1])`,
    };
  }
  const explicit = get(WORKLOAD_ENV.audience);
  if (explicit) {
    if (!POOL_PROVIDER_AUDIENCE.test(explicit)) {
      return {
        ok: false,
        reason: `${WORKLOAD_ENV.audience} must look like //iam.googleapis.com/projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>`,
      };
    }
    return { ok: true, audience: explicit, stsEndpoint };
  }
  const provider = get(WORKLOAD_ENV.identityProvider);
  if (!provider) {
    return {
      ok: false,
      reason:
        `workload identity for image pulls is not configured: set ${WORKLOAD_ENV.identityProvider} ` +
        `(e.g. https://container.googleapis.com/v1/projects/<project>/locations/<location>/clusters/<cluster>) ` +
        `and ${WORKLOAD_ENV.workloadPool} or ${WORKLOAD_ENV.projectId}, or ${WORKLOAD_ENV.audience} for self-managed federation`,
    };
  }
  if (!/^https:\/\/\S+$/.test(provider)) return { ok: false, reason: `${WORKLOAD_ENV.identityProvider} must be an https:// URL` };
  const pool = workloadPool(env);
  if (pool === null && get(WORKLOAD_ENV.workloadPool)) {
    return { ok: false, reason: `${WORKLOAD_ENV.workloadPool} must look like <project>.svc.id.goog` };
  }
  if (pool === null) {
    return {
      ok: false,
      reason: `${WORKLOAD_ENV.identityProvider} needs the workload pool: set ${WORKLOAD_ENV.workloadPool} (<project>.svc.id.goog) or ${WORKLOAD_ENV.projectId}`,
    };
  }
  return { ok: true, audience: `identitynamespace:${pool}:${provider}`, stsEndpoint };
}

/** `<project>.svc.id.goog`, from the pool itself or the project (GOOGLE_CLOUD_PROJECT as the last resort). */
function workloadPool(env: Env): string | null {
  const pool = (env[WORKLOAD_ENV.workloadPool] ?? "").trim();
  if (pool) return /^[a-z0-9.:-]+\.svc\.id\.goog$/.test(pool) ? pool : null;
  const project = (env[WORKLOAD_ENV.projectId] || env.GOOGLE_CLOUD_PROJECT || "").trim();
  // Project ids: 6-30 of [a-z0-9-]; domain-scoped ones carry `domain:`.
  return /^(?:[a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(project) ? `${project}.svc.id.goog` : null;
}
