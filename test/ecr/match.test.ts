// Which hosts are ECR: the anchored pattern, ECR Public, and the kubelet
// globs that must cover exactly what the pattern accepts.

import { describe, expect, test } from "bun:test";
import { kubeletGlobs, matchEcrHost, PRIVATE_SUFFIXES } from "../../src/providers/ecr/hosts.ts";
import { provider } from "../../src/providers/ecr.ts";
import { kubeletMatches } from "../support/kubelet.ts";

const A = "123456789012";
const accepted: Array<[string, ReturnType<typeof matchEcrHost>]> = [
  [`${A}.dkr.ecr.us-east-1.amazonaws.com`, { kind: "private", account: A, region: "us-east-1", fips: false, dualStack: false }],
  [
    `${A}.dkr.ecr-fips.us-gov-west-1.amazonaws.com`,
    { kind: "private", account: A, region: "us-gov-west-1", fips: true, dualStack: false },
  ],
  [
    `${A}.dkr.ecr.cn-north-1.amazonaws.com.cn`,
    { kind: "private", account: A, region: "cn-north-1", fips: false, dualStack: false },
  ],
  [`${A}.dkr-ecr.us-east-1.on.aws`, { kind: "private", account: A, region: "us-east-1", fips: false, dualStack: true }],
  [`${A}.dkr-ecr-fips.us-east-2.on.aws`, { kind: "private", account: A, region: "us-east-2", fips: true, dualStack: true }],
  [
    `${A}.dkr-ecr.cn-northwest-1.on.amazonwebservices.com.cn`,
    { kind: "private", account: A, region: "cn-northwest-1", fips: false, dualStack: true },
  ],
  [
    `${A}.dkr.ecr.us-iso-east-1.c2s.ic.gov`,
    { kind: "private", account: A, region: "us-iso-east-1", fips: false, dualStack: false },
  ],
  [
    `${A}.dkr.ecr.us-isob-east-1.sc2s.sgov.gov`,
    { kind: "private", account: A, region: "us-isob-east-1", fips: false, dualStack: false },
  ],
  [
    `${A}.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk`,
    { kind: "private", account: A, region: "eu-isoe-west-1", fips: false, dualStack: false },
  ],
  [
    `${A}.dkr.ecr.us-isof-south-1.csp.hci.ic.gov`,
    { kind: "private", account: A, region: "us-isof-south-1", fips: false, dualStack: false },
  ],
  [
    `${A}.dkr.ecr.eusc-de-east-1.amazonaws.eu`,
    { kind: "private", account: A, region: "eusc-de-east-1", fips: false, dualStack: false },
  ],
  ["public.ecr.aws", { kind: "public", region: "us-east-1" }],
  ["ecr-public.aws.com", { kind: "public", region: "us-east-1" }],
];

// Hosts that are not ECR and that no kubelet glob may cover either.
const foreign = [
  `${A}.dkr.ecr.us-east-1.amazonaws.com.evil.com`,
  `${A}.dkr.ecr.us-east-1.amazonaws.co`,
  `${A}.dkr.ecr.us-east-1.evil.com`,
  `${A}.dkr.ecr.us-east-1.on.aws.evil.com`,
  `${A}.dkr_ecr.us-east-1.amazonaws.com`,
  `${A}.dkr.ecrx.us-east-1.amazonaws.com`,
  `${A}.ecr.us-east-1.amazonaws.com`,
  `dkr.ecr.us-east-1.amazonaws.com`,
  `evil.${A}.dkr.ecr.us-east-1.amazonaws.com`,
  "amazonaws.com",
  "public.ecr.aws.evil.com",
  "evilpublic.ecr.aws",
  "ecr-public.aws.com.evil.com",
  "ecr.aws",
  "evil.com",
  "",
];

// Not ECR, though a kubelet glob's `*` (any label) covers them: match refuses them after kubelet asks.
const refusedByPatternOnly = [
  `x${A}.dkr.ecr.us-east-1.amazonaws.com`,
  `1${A}.dkr.ecr.us-east-1.amazonaws.com`,
  `${A.slice(1)}.dkr.ecr.us-east-1.amazonaws.com`,
  `${A}.dkr.ecr.-us-east-1.amazonaws.com`,
];

describe("matchEcrHost", () => {
  for (const [host, expected] of accepted) {
    test(`accepts ${host}`, () => expect(matchEcrHost(host)).toEqual(expected));
  }
  for (const host of [
    ...foreign,
    ...refusedByPatternOnly,
    `${A}.dkr.ecr.us-east-1.amazonaws.com:443`,
    `${A}.dkr.ecr.us-east-1.amazonaws.com\n`,
  ]) {
    test(`rejects ${JSON.stringify(host)}`, () => expect(matchEcrHost(host)).toBeNull());
  }
  test("is the provider's match", () => expect(provider.match).toBe(matchEcrHost));
});

describe("kubeletMatchImages", () => {
  const globs = provider.manifest.kubeletMatchImages ?? [];

  test("lists one glob per service label form and suffix, plus ECR Public", () => {
    expect(globs).toEqual(kubeletGlobs());
    expect(globs).toHaveLength(PRIVATE_SUFFIXES.length * 4 + 2);
    expect(globs).toContain("*.dkr.ecr.*.amazonaws.com");
    expect(globs).toContain("*.dkr.ecr.*.amazonaws.com.cn");
    expect(globs).toContain("*.dkr-ecr.*.on.aws");
    expect(globs).toContain("*.dkr.ecr-fips.*.amazonaws.com");
    expect(globs).toContain("public.ecr.aws");
    expect(globs).toContain("ecr-public.aws.com");
    for (const g of globs) expect(g).not.toContain("://");
  });

  for (const [host] of accepted) {
    test(`a glob covers ${host}`, () => expect(globs.some((g) => kubeletMatches(g, host))).toBe(true));
  }

  for (const host of foreign) {
    test(`no glob covers ${JSON.stringify(host)}`, () => expect(globs.filter((g) => kubeletMatches(g, host))).toEqual([]));
  }

  test("every glob, filled in with an account and a region, is a host the pattern accepts", () => {
    for (const g of globs) {
      const host = g.replace("*", A).replace("*", "us-east-1");
      expect({ g, match: matchEcrHost(host) !== null }).toEqual({ g, match: true });
    }
  });
});
