// Oracle Cloud Infrastructure Registry (OCIR). Light on purpose: host patterns
// from a generated region table and a cheap read of the OCI configuration file.
// oci-common is loaded inside fetch (./oci/fetch.ts), never on a cache hit.
// See docs/providers/oci.md; the identity order is in ./oci/plan.ts.

import type { Provider } from "../provider.ts";
import { kubeletGlobs, matchOcirHost, type OcirHost } from "./oci/hosts.ts";
import { planOci, type OciPlan } from "./oci/plan.ts";
import { OCI_HELP_TEXT, OKE_TOKEN_AUDIENCE, SETTINGS_KEYS } from "./oci/settings.ts";

export const provider: Provider<OcirHost, OciPlan> = {
  manifest: {
    name: "oci",
    title: "Oracle Cloud Infrastructure Registry",
    settingsKeys: SETTINGS_KEYS,
    helpText: OCI_HELP_TEXT,
    // OCIR hosts are per region (45 in OC1 alone) and docker build asks every
    // credHelpers entry: the user names theirs (`configure docker --registries`).
    defaultRegistries: [],
    kubeletMatchImages: kubeletGlobs(),
    // OKE workload identity needs no annotation: the identity is the cluster,
    // namespace and service account, and IAM policies name them. The audience is
    // documented (and not verified against OKE) at OKE_TOKEN_AUDIENCE.
    serviceAccountTokens: {
      audience: OKE_TOKEN_AUDIENCE,
      // kubelet runs on the node, outside any pod: tell it where the cluster's proxymux is.
      env: {
        CCH_OCI_PROXYMUX_URL: "https://<kubernetes API private endpoint IP>:12250",
        CCH_OCI_KUBERNETES_CA_FILE: "/etc/kubernetes/ca.crt",
      },
      flags: [
        { flag: "--oci-proxymux-url", env: "CCH_OCI_PROXYMUX_URL", check: /^https:\/\/\S+$/, example: "https://10.0.0.10:12250" },
        { flag: "--oci-kubernetes-ca-file", env: "CCH_OCI_KUBERNETES_CA_FILE", check: /^\/\S*$/, example: "/etc/kubernetes/ca.crt" },
      ],
    },
    tokenUser: "BEARER_TOKEN",
    tokenMaxLifeMs: 3600_000,
  },
  match: matchOcirHost,
  plan: planOci,
  fetch: async (target, plan, ctx) => (await import("./oci/fetch.ts")).fetchCredential(target, plan, ctx),
  describe: async (target, plan, ctx) => (await import("./oci/describe.ts")).describeOciIdentity(target, ctx, plan),
};
