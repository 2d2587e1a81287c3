// A fuzzed corpus of host names, through the same path a `get` takes
// (parseServerUrl, then each provider's match): no host outside a cloud's
// own domains is ever accepted. The oracles below are written independently
// of the providers' patterns, from REFERENCE.md, as plain suffix checks.

import { describe, expect, test } from "bun:test";
import { loadAllProviders } from "../../src/providers/index.ts";

const PROVIDERS = Object.fromEntries((await loadAllProviders()).map((p) => [p.manifest.name, p]));
import { parseServerUrl } from "../../src/registry.ts";
import { HOST_ALPHABET, rng, type Rng } from "../support/random.ts";

const ECR_SUFFIXES = [
  "amazonaws.com",
  "amazonaws.com.cn",
  "amazonaws.eu",
  "on.aws",
  "on.amazonwebservices.com.cn",
  "sc2s.sgov.gov",
  "c2s.ic.gov",
  "cloud.adc-e.uk",
  "csp.hci.ic.gov",
];

const endsWithLabels = (host: string, suffix: string) => host.endsWith(`.${suffix}`);

/** What each cloud owns: a host a provider accepts must pass its oracle. */
const ORACLES: Record<string, (h: string) => boolean> = {
  "ecr-login": (h) =>
    h === "public.ecr.aws" ||
    h === "ecr-public.aws.com" ||
    ECR_SUFFIXES.some(
      (suffix) =>
        h.endsWith(`.${suffix}`) && /^\d{12}\.dkr[.-]ecr(-fips)?\.[a-z0-9][a-z0-9_-]*$/.test(h.slice(0, -suffix.length - 1)),
    ),
  gcr: (h) =>
    h === "gcr.io" ||
    endsWithLabels(h, "gcr.io") ||
    h === "container.cloud.google.com" ||
    /^[a-z0-9-]+-docker\.pkg\.dev$/.test(h) ||
    /^docker\.[a-z0-9-]+\.rep\.pkg\.dev$/.test(h),
  acr: (h) => ["azurecr.io", "azurecr.cn", "azurecr.us", "azurecr.de"].some((s) => endsWithLabels(h, s)) && !h.includes(".data."),
  oci: (h) =>
    endsWithLabels(h, "ocir.io") ||
    /^ocir\.[a-z0-9-]+\.oci\.(oraclecloud\d*\.com|oraclegovcloud\.com|oraclegovcloud\.uk|oraclecloud\.eu)$/.test(h),
};

const SEEDS = [
  "123456789012.dkr.ecr.us-east-1.amazonaws.com",
  "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com",
  "123456789012.dkr-ecr.eu-west-1.on.aws",
  "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
  "public.ecr.aws",
  "gcr.io",
  "eu.gcr.io",
  "europe-west1-docker.pkg.dev",
  "docker.us-central1.rep.pkg.dev",
  "container.cloud.google.com",
  "myreg.azurecr.io",
  "myreg-abc.azurecr.cn",
  "myreg.westeurope.geo.azurecr.io",
  "iad.ocir.io",
  "us-ashburn-1.ocir.io",
  "ocir.us-ashburn-1.oci.oraclecloud.com",
];

const SPOOF_SUFFIXES = [".evil.com", ".com", "evil.com", ".", ":443", "%2e", "\u0000", "\u200b", ".io", "-evil", "x"];
const SPOOF_PREFIXES = ["evil", "evil.", "x", "-", "user@", "a.b.", "\u0430", "."];

function mutate(r: Rng, host: string): string {
  switch (r.int(8)) {
    case 0:
      return host + r.pick(SPOOF_SUFFIXES);
    case 1:
      return r.pick(SPOOF_PREFIXES) + host;
    case 2: {
      const i = r.int(host.length);
      return host.slice(0, i) + r.string(2, HOST_ALPHABET) + host.slice(i + 1);
    }
    case 3:
      return host.replace(/\./g, () => (r.next() < 0.2 ? r.pick(["-", "", "..", "_"]) : "."));
    case 4:
      return `https://${host}@${r.pick(SEEDS)}`;
    case 5:
      return `${host}.${r.pick(SEEDS)}`;
    case 6:
      return host.split(".").reverse().join(".");
    default:
      return host.toUpperCase();
  }
}

describe("fuzzed host names never reach a cloud they do not belong to", () => {
  test("every seed is accepted by exactly its own provider (the oracles are not vacuous)", () => {
    for (const seed of SEEDS) {
      const owners = Object.entries(PROVIDERS)
        .filter(([, p]) => p.match(seed) !== null)
        .map(([n]) => n);
      expect({ seed, owners: owners.length }).toEqual({ seed, owners: 1 });
      expect(ORACLES[owners[0]!]!(seed)).toBe(true);
    }
  });

  test("50,000 mutated hosts: whatever a provider accepts passes that cloud's oracle", () => {
    const r = rng(42);
    let accepted = 0;
    for (let i = 0; i < 50_000; i++) {
      let input = r.pick(SEEDS);
      for (let k = 1 + r.int(3); k > 0; k--) input = mutate(r, input);
      const parsed = parseServerUrl(input);
      if (!parsed.ok) continue;
      for (const [name, provider] of Object.entries(PROVIDERS)) {
        if (provider.match(parsed.host.hostname) === null) continue;
        accepted++;
        const ok = ORACLES[name]!(parsed.host.hostname);
        if (!ok)
          throw new Error(
            `${name} accepted ${JSON.stringify(parsed.host.hostname)} from input ${JSON.stringify(input)} (seed 42, round ${i})`,
          );
      }
    }
    // Mutations keep some hosts valid (upper case, reversed-then-reversed…): the corpus exercises acceptance too.
    expect(accepted).toBeGreaterThan(100);
  });

  test("classic spoofs are refused by every provider", () => {
    const spoofs = [
      "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.com",
      "x123456789012.dkr.ecr.us-east-1.amazonaws.com",
      "evilgcr.io",
      "gcr.io.evil.com",
      "x.azurecr.io.evil.com",
      "xazurecr.io",
      "myreg.westeurope.data.azurecr.io",
      "iad.ocir.io.evil.com",
      "xocir.io",
      "pkg.dev",
      "evil-docker.pkg.dev.evil.com",
    ];
    for (const s of spoofs) {
      const host = parseServerUrl(s);
      expect(host.ok).toBe(true);
      for (const [name, p] of Object.entries(PROVIDERS))
        expect({ s, name, m: p.match(host.ok ? host.host.hostname : "") }).toEqual({ s, name, m: null });
    }
    for (const s of ["https://gcr.io@evil.com", "user@myreg.azurecr.io", "https://iad.ocir.io:443@evil.com/v2/"])
      expect(parseServerUrl(s).ok).toBe(false);
  });
});
