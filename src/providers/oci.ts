// Oracle Cloud Infrastructure Registry (OCIR). Light on purpose: host patterns
// from a generated region table and a cheap read of the OCI configuration file.
// oci-common is loaded inside fetch (./oci/fetch.ts), never on a cache hit.
// Settings and environment overrides are documented in ./oci/settings.ts,
// the identity order in ./oci/identity.ts, the pod identity in ./oci/oke.ts.

import type { Context, Provider } from "../provider.ts";
import { OCI_HELP_TEXT } from "./oci/help.ts";
import { kubeletGlobs, matchOcirHost, type OcirHost } from "./oci/hosts.ts";
import { choosePlan, describePlan } from "./oci/identity.ts";
import { OKE_TOKEN_AUDIENCE, proxymuxUrl, readSettings, SETTINGS_KEYS, TITLE } from "./oci/settings.ts";

/**
 * In kubelet service-account mode the pod's OKE workload identity signs, not
 * the node's plan (which need not even exist); the resolver adds which
 * service account it is, so pods never share a token with each other or the node.
 */
function podIdentity(ctx: Context): string {
  const endpoint = proxymuxUrl(ctx.env);
  return `oke_pod:${endpoint.ok ? endpoint.url : "unconfigured"}`;
}

export const provider: Provider<OcirHost> = {
  name: "oci",
  title: TITLE,
  match: matchOcirHost,
  identity: (target, ctx) =>
    ctx.serviceAccount ? podIdentity(ctx) : describePlan(choosePlan(readSettings(target.settings, ctx.env), ctx.env), ctx.env),
  fetch: async (target, ctx) => (await import("./oci/fetch.ts")).fetchCredential(target, ctx),
  tokenUser: "BEARER_TOKEN",
  tokenMaxLifeMs: 3600_000, // /20180419/docker/token: about 1 h
  settingsKeys: SETTINGS_KEYS,
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
  },
  describeIdentity: async (target, ctx) => (await import("./oci/describe.ts")).describeOciIdentity(target, ctx),
  helpText: OCI_HELP_TEXT,
};
