// Per-registry settings of the gcr provider (configuration file, `registries`):
//
//   "us-docker.pkg.dev": {
//     "impersonateServiceAccount": "puller@my-project.iam.gserviceaccount.com",
//     "delegates": ["hop@my-project.iam.gserviceaccount.com"],
//     "source": "adc" | "gcloud"
//   }
//
// `source: "gcloud"` is the only way `gcloud` is ever run: starting it costs
// about a second, so the default path (Application Default Credentials)
// never spawns it.

import { ConfigError } from "../../config.ts";
import type { RegistrySettings } from "../../config.ts";
import { parseSecretEndpoint } from "../../endpoint.ts";

export const GCR_SETTINGS_KEYS = ["source", "impersonateServiceAccount", "delegates", "impersonationEndpoint"] as const;

export interface GcrSettings {
  source: "adc" | "gcloud";
  impersonate: { target: string; delegates: string[]; endpoint: string | null } | null;
}

// A service account e-mail or unique id: what iamcredentials accepts after `serviceAccounts/`.
const SERVICE_ACCOUNT = /^(?:[a-z0-9][a-z0-9._+-]*@[a-z0-9][a-z0-9.-]*\.[a-z]{2,}|\d{10,30})$/i;

export function parseGcrSettings(settings: RegistrySettings, host: string, configPath: string | null): GcrSettings {
  const fail = (problem: string): never => {
    throw new ConfigError(`configuration file ${configPath ?? "(none)"}: registry "${host}": ${problem}`);
  };
  const source = settings.source ?? "adc";
  if (source !== "adc" && source !== "gcloud") fail(`"source" must be "adc" or "gcloud"`);

  const target = settings.impersonateServiceAccount;
  if (target === undefined) {
    if (settings.delegates !== undefined || settings.impersonationEndpoint !== undefined) {
      fail(`"delegates" and "impersonationEndpoint" need "impersonateServiceAccount"`);
    }
    return { source: source as GcrSettings["source"], impersonate: null };
  }
  if (typeof target !== "string" || !SERVICE_ACCOUNT.test(target)) {
    fail(`"impersonateServiceAccount" must be a service account e-mail such as puller@my-project.iam.gserviceaccount.com`);
  }
  const delegates = settings.delegates ?? [];
  if (!Array.isArray(delegates) || !delegates.every((d) => SERVICE_ACCOUNT.test(d))) {
    fail(`"delegates" must be a list of service account e-mails`);
  }
  const endpoint = settings.impersonationEndpoint ?? null;
  if (endpoint !== null && (typeof endpoint !== "string" || parseSecretEndpoint(endpoint) === null)) {
    fail(`"impersonationEndpoint" must be an https:// URL (http:// only on 127.0.0.1 or [::1])`);
  }
  return {
    source: source as GcrSettings["source"],
    impersonate: {
      target: target as string,
      delegates: delegates as string[],
      endpoint: endpoint === null ? null : (endpoint as string).replace(/\/+$/, ""),
    },
  };
}

/** The provider's lines of `--help`: its settings keys and environment variables. */
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
