// The gcr lines of `--help` (under the provider's title): settings keys and
// environment variables.

export const GCR_HELP_TEXT = `  Hosts: gcr.io, *.gcr.io, <location>-docker.pkg.dev, docker.<location>.rep.pkg.dev,
  container.cloud.google.com. Identity (Application Default Credentials, in order):
  GOOGLE_APPLICATION_CREDENTIALS, the gcloud ADC file (CLOUDSDK_CONFIG), the metadata
  server (GCE_METADATA_HOST; METADATA_SERVER_DETECTION=assume-present|none|bios-only|ping-only).
  A service-account key's grant goes to its token_uri (https, or http on 127.0.0.1 / [::1]).
  Registry settings: "source": "adc"|"gcloud", "impersonateServiceAccount", "delegates",
  "impersonationEndpoint".
  Kubelet service account tokens: a pod whose service account has
  iam.gke.io/enable-wi-image-pull: "true" pulls as itself (STS token exchange); others
  use the node's identity.
    CCH_GCR_IDENTITY_PROVIDER  https://container.googleapis.com/v1/projects/P/locations/L/clusters/C
    CCH_GCR_WORKLOAD_POOL      P.svc.id.goog (default from CCH_GCR_PROJECT_ID or GOOGLE_CLOUD_PROJECT)
    CCH_GCR_WIF_AUDIENCE       instead, for self-managed federation: //iam.googleapis.com/projects/
                               N/locations/global/workloadIdentityPools/POOL/providers/PROVIDER
    CCH_GCR_STS_ENDPOINT       default https://sts.googleapis.com/v1/token
  Set kubelet's serviceAccountTokenAudience to what the pool accepts (GKE: P.svc.id.goog).
`;
