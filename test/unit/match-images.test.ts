// Every host each provider accepts is matched by its kubelet matchImages
// (kubelet's one-label-per-glob rule, test/support/kubelet.ts, written from
// REFERENCE.md §6), and no spoofed host is.

import { describe, expect, test } from "bun:test";
import { loadAllProviders } from "../../src/providers/index.ts";

const PROVIDERS = Object.fromEntries((await loadAllProviders()).map((p) => [p.manifest.name, p]));
import { kubeletMatches } from "../support/kubelet.ts";

const ACCEPTED: Record<string, string[]> = {
  "ecr-login": [
    "123456789012.dkr.ecr.us-east-1.amazonaws.com",
    "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com",
    "123456789012.dkr-ecr.eu-west-1.on.aws",
    "123456789012.dkr-ecr-fips.us-east-1.on.aws",
    "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
    "123456789012.dkr-ecr.cn-north-1.on.amazonwebservices.com.cn",
    "123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov",
    "123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov",
    "123456789012.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk",
    "123456789012.dkr.ecr.us-isof-south-1.csp.hci.ic.gov",
    "123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu",
    "public.ecr.aws",
    "ecr-public.aws.com",
  ],
  gcr: [
    "gcr.io",
    "us.gcr.io",
    "eu.gcr.io",
    "asia.gcr.io",
    "marketplace.gcr.io",
    "europe-west1-docker.pkg.dev",
    "us-docker.pkg.dev",
    "docker.us-central1.rep.pkg.dev",
    "container.cloud.google.com",
  ],
  acr: [
    "myreg.azurecr.io",
    "myreg.azurecr.cn",
    "myreg.azurecr.us",
    "myreg.azurecr.de",
    "myreg-abc123.azurecr.io",
    "myreg.westeurope.geo.azurecr.io",
  ],
  oci: [
    "iad.ocir.io",
    "fra.ocir.io",
    "us-ashburn-1.ocir.io",
    "ocir.us-ashburn-1.oci.oraclecloud.com",
    "ocir.uk-london-1.oci.oraclecloud.com",
  ],
};

const SPOOFED = [
  "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.com",
  "evil.com/123456789012.dkr.ecr.us-east-1.amazonaws.com",
  "evilgcr.io",
  "gcr.io.evil.com",
  "x.azurecr.io.evil.com",
  "xazurecr.io",
  "myreg.westeurope.data.azurecr.io",
  "iad.ocir.io.evil.com",
  "xocir.io",
  "docker.io",
  "registry.example.com",
];

describe("kubelet matchImages", () => {
  for (const [name, hosts] of Object.entries(ACCEPTED)) {
    const provider = PROVIDERS[name]!;
    test(`${name}: every accepted host is matched by its matchImages, on an image path`, () => {
      expect(provider.manifest.kubeletMatchImages?.length).toBeGreaterThan(0);
      for (const host of hosts) {
        expect({ host, accepted: provider.match(host) !== null }).toEqual({ host, accepted: true });
        const image = `${host}/team/app:v1`;
        expect({ host, matched: provider.manifest.kubeletMatchImages!.some((m) => kubeletMatches(m, image)) }).toEqual({
          host,
          matched: true,
        });
      }
    });
  }

  test("no provider's matchImages matches a spoofed host", () => {
    for (const [name, provider] of Object.entries(PROVIDERS)) {
      for (const host of SPOOFED) {
        const image = `${host}/team/app`;
        expect({ name, host, matched: provider.manifest.kubeletMatchImages!.some((m) => kubeletMatches(m, image)) }).toEqual({
          name,
          host,
          matched: false,
        });
      }
    }
  });

  test("globs never span the registry part of an image path (no scheme, globs only in the host)", () => {
    for (const provider of Object.values(PROVIDERS)) {
      for (const m of provider.manifest.kubeletMatchImages!) {
        expect(m).not.toMatch(/^[a-z]+:\/\//);
        expect(m.includes("/") ? m.slice(m.indexOf("/")) : "").not.toContain("*");
      }
    }
  });
});
