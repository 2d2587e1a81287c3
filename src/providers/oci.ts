// Oracle Cloud Infrastructure Registry (OCIR). Light on purpose: host patterns
// from a generated region table and a cheap read of the OCI configuration file.
// oci-common is loaded inside fetch (./oci/fetch.ts), never on a cache hit.
// Settings and environment overrides are documented in ./oci/settings.ts,
// the identity order in ./oci/identity.ts.

import type { Provider } from "../provider.ts";
import { kubeletGlobs, matchOcirHost, type OcirHost } from "./oci/hosts.ts";
import { choosePlan, describePlan } from "./oci/identity.ts";
import { REGIONS } from "./oci/regions.ts";
import { readSettings, SETTINGS_KEYS, TITLE } from "./oci/settings.ts";

export const provider: Provider<OcirHost> = {
  name: "oci",
  title: TITLE,
  match: matchOcirHost,
  identity: (target, ctx) => describePlan(choosePlan(readSettings(target.settings, ctx.env), ctx.env), ctx.env),
  fetch: async (target, ctx) => (await import("./oci/fetch.ts")).fetchCredential(target, ctx),
  settingsKeys: SETTINGS_KEYS,
  // The commercial realm's <region-key>.ocir.io names, the form the OCIR documentation uses.
  defaultRegistries: REGIONS.filter(([, key, realm]) => realm === "oc1" && key).map(([, key]) => `${key}.ocir.io`),
  kubeletMatchImages: kubeletGlobs(),
};
