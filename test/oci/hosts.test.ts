// Which hosts are OCIR: anchored on the whole name, from the generated region table.

import { describe, expect, test } from "bun:test";
import { parseServerUrl } from "../../src/registry.ts";
import { provider } from "../../src/providers/oci.ts";
import { allOcirHosts, kubeletGlobs, matchOcirHost } from "../../src/providers/oci/hosts.ts";
import { kubeletMatches } from "../support/kubelet.ts";

describe("matchOcirHost", () => {
  test("the three forms, for every realm", () => {
    expect(matchOcirHost("iad.ocir.io")).toEqual({ regionId: "us-ashburn-1", regionKey: "iad", realm: "oc1" });
    expect(matchOcirHost("us-ashburn-1.ocir.io")).toEqual({ regionId: "us-ashburn-1", regionKey: "iad", realm: "oc1" });
    expect(matchOcirHost("fra.ocir.io")?.regionId).toBe("eu-frankfurt-1");
    expect(matchOcirHost("ocir.us-ashburn-1.oci.oraclecloud.com")?.realm).toBe("oc1");
    expect(matchOcirHost("ocir.us-langley-1.oci.oraclegovcloud.com")?.realm).toBe("oc2");
    expect(matchOcirHost("ocir.us-gov-ashburn-1.oci.oraclegovcloud.com")?.realm).toBe("oc3");
    expect(matchOcirHost("ocir.uk-gov-london-1.oci.oraclegovcloud.uk")?.realm).toBe("oc4");
    expect(matchOcirHost("ocir.eu-frankfurt-2.oci.oraclecloud.eu")?.realm).toBe("oc19");
    expect(matchOcirHost("ocir.ap-chiyoda-1.oci.oraclecloud8.com")?.realm).toBe("oc8");
  });

  test("spoofed and near-miss names are not OCIR", () => {
    for (const host of [
      "iad.ocir.io.evil.com",
      "xocir.io",
      "ocir.io",
      "iad.ocir.io.",
      "iad-ocir.io",
      "iadocir.io",
      "x.iad.ocir.io",
      "nosuch.ocir.io",
      "us-langley-1.ocir.io", // region ids under ocir.io are OC1 only
      "ocir.us-ashburn-1.oci.evil.com",
      "ocir.us-ashburn-1.oci.oraclegovcloud.com", // oc1 region, another realm's domain
      "ocir.us-ashburn-1.oci.oraclecloud.com.evil.com",
      "evil.ocir.us-ashburn-1.oci.oraclecloud.com",
      "ocir.nowhere-1.oci.oraclecloud.com",
      "registry.us-ashburn-1.oci.oraclecloud.com",
    ]) {
      expect({ host, match: matchOcirHost(host) }).toEqual({ host, match: null });
    }
  });

  test("userinfo tricks never reach match", () => {
    for (const url of ["https://iad.ocir.io@evil.com", "https://evil.com@iad.ocir.io", "iad.ocir.io@evil.com"]) {
      expect(parseServerUrl(url).ok).toBe(false);
    }
    const viaPath = parseServerUrl("https://evil.com/iad.ocir.io");
    expect(viaPath.ok && matchOcirHost(viaPath.host.hostname)).toBe(null);
  });
});

describe("kubeletMatchImages", () => {
  test("*.ocir.io and one ocir.*.oci.<domain> per realm domain", () => {
    expect(provider.manifest.kubeletMatchImages).toEqual(kubeletGlobs());
    expect(provider.manifest.kubeletMatchImages).toContain("*.ocir.io");
    expect(provider.manifest.kubeletMatchImages).toContain("ocir.*.oci.oraclecloud.com");
    expect(provider.manifest.kubeletMatchImages).toContain("ocir.*.oci.oraclegovcloud.uk");
    expect(new Set(provider.manifest.kubeletMatchImages).size).toBe(provider.manifest.kubeletMatchImages!.length);
  });

  test("cover every host match accepts", () => {
    const hosts = allOcirHosts();
    expect(hosts.length).toBeGreaterThan(100);
    for (const host of hosts) {
      expect({ host, matched: matchOcirHost(host) !== null }).toEqual({ host, matched: true });
      expect({ host, covered: provider.manifest.kubeletMatchImages!.some((g) => kubeletMatches(g, host)) }).toEqual({
        host,
        covered: true,
      });
    }
  });

  test("match no spoofed host", () => {
    for (const host of [
      "iad.ocir.io.evil.com",
      "xocir.io",
      "ocir.us-ashburn-1.oci.evil.com",
      "a.b.ocir.io",
      "ocir.x.y.oci.oraclecloud.com",
    ]) {
      expect({ host, covered: provider.manifest.kubeletMatchImages!.some((g) => kubeletMatches(g, host)) }).toEqual({
        host,
        covered: false,
      });
    }
  });

  test("no defaultRegistries: OCIR hosts are per region, and docker build would ask every credHelpers entry", () => {
    expect(provider.manifest.defaultRegistries).toEqual([]);
  });
});
