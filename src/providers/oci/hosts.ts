// Which host names are OCIR registries, anchored on the whole name. Three forms
// (docs/providers/oci.md), all from the generated region table, so a spoofed name
// (`iad.ocir.io.evil.com`, `xocir.io`, `ocir.us-ashburn-1.oci.evil.com`) is
// never matched and never gets a signed request:
//   <region-key>.ocir.io                      iad.ocir.io
//   <region-id>.ocir.io (OC1 only)            us-ashburn-1.ocir.io
//   ocir.<region-id>.oci.<realm domain>       ocir.us-langley-1.oci.oraclegovcloud.com

import { REALMS, REGIONS } from "./regions.ts";

export interface OcirHost {
  regionId: string;
  regionKey: string;
  realm: string;
}

const OC1 = "oc1";
const byKey = new Map<string, OcirHost>();
const byId = new Map<string, OcirHost>();
for (const [regionId, regionKey, realm] of REGIONS) {
  const host = { regionId, regionKey, realm };
  if (regionKey) byKey.set(regionKey, host);
  byId.set(regionId, host);
}

export function matchOcirHost(hostname: string): OcirHost | null {
  const labels = hostname.split(".");
  if (labels.length === 3 && labels[1] === "ocir" && labels[2] === "io") {
    const first = labels[0]!;
    const id = byId.get(first);
    if (id && id.realm === OC1) return id;
    return byKey.get(first) ?? null;
  }
  // ocir.<region-id>.oci.<domain>: the domain is whatever follows, and must be
  // the domain of the region's own realm (oc2 and oc3 share one).
  if (labels.length >= 5 && labels[0] === "ocir" && labels[2] === "oci") {
    const region = byId.get(labels[1]!);
    if (region && REALMS[region.realm] === labels.slice(3).join(".")) return region;
  }
  return null;
}

/**
 * kubelet matchImages: `*` is exactly one DNS label, so `*.ocir.io` covers the
 * first two forms and one `ocir.*.oci.<domain>` per realm domain the third.
 */
export function kubeletGlobs(): string[] {
  const domains = [...new Set(Object.values(REALMS))];
  return ["*.ocir.io", ...domains.map((d) => `ocir.*.oci.${d}`)];
}

/** Every host name the table yields, for tests and `configure`. */
export function allOcirHosts(): string[] {
  const out: string[] = [];
  for (const [regionId, regionKey, realm] of REGIONS) {
    if (regionKey) out.push(`${regionKey}.ocir.io`);
    if (realm === OC1) out.push(`${regionId}.ocir.io`);
    out.push(`ocir.${regionId}.oci.${REALMS[realm]}`);
  }
  return out;
}
