// Which host names are ECR registries, and what they say about the registry.
// Pure and light: the cache-hit path loads this module, never the SDK.

/** What a host name tells us: enough to pick the API, region and endpoint variant. */
export type EcrTarget =
  | { kind: "private"; account: string; region: string; fips: boolean; dualStack: boolean }
  | { kind: "public"; region: "us-east-1" };

// The private registry pattern of amazon-ecr-credential-helper (api/client.go),
// anchored at both ends. Groups: account, `-fips`, region, partition suffix.
// It covers commercial, China, FIPS, dual-stack, the ISO partitions and the EU
// sovereign cloud.
export const PRIVATE_SUFFIXES = [
  "amazonaws.com",
  "amazonaws.com.cn",
  "amazonaws.eu",
  "on.aws",
  "on.amazonwebservices.com.cn",
  "sc2s.sgov.gov",
  "c2s.ic.gov",
  "cloud.adc-e.uk",
  "csp.hci.ic.gov",
] as const;

const PRIVATE_PATTERN =
  /^(\d{12})\.dkr[.-]ecr(-fips)?\.([a-zA-Z0-9][a-zA-Z0-9-_]*)\.(amazonaws\.(?:com(?:\.cn)?|eu)|on\.(?:aws|amazonwebservices\.com\.cn)|sc2s\.sgov\.gov|c2s\.ic\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov)$/;

// ECR Public serves every region from us-east-1 (its only API region).
export const PUBLIC_HOSTS: readonly string[] = ["public.ecr.aws", "ecr-public.aws.com"];
export const PUBLIC_REGION = "us-east-1";

/**
 * Matches a lower-cased host name without port. Anchored: a suffix or prefix
 * trick (`….amazonaws.com.evil.com`, `x123….dkr.ecr…`) is not ECR.
 */
export function matchEcrHost(hostname: string): EcrTarget | null {
  if (PUBLIC_HOSTS.includes(hostname)) return { kind: "public", region: PUBLIC_REGION };
  const m = PRIVATE_PATTERN.exec(hostname);
  if (m === null) return null;
  const [, account, fips, region, suffix] = m as unknown as [string, string, string | undefined, string, string];
  // Dual-stack registries live under `on.aws` (and its China twin); their API
  // has a dual-stack endpoint too.
  return { kind: "private", account, region, fips: fips !== undefined, dualStack: suffix.startsWith("on.") };
}

/**
 * kubelet `matchImages` globs for every host the pattern accepts. A kubelet
 * glob `*` matches exactly one DNS label, so `dkr.ecr` (two labels) and
 * `dkr-ecr` (one), with and without `-fips`, are spelled out per suffix.
 */
export function kubeletGlobs(): string[] {
  const out: string[] = [];
  for (const suffix of PRIVATE_SUFFIXES) {
    for (const service of ["dkr.ecr", "dkr.ecr-fips", "dkr-ecr", "dkr-ecr-fips"]) {
      out.push(`*.${service}.*.${suffix}`);
    }
  }
  return [...out, ...PUBLIC_HOSTS];
}

/** Where a target's token comes from, for messages and logs. */
export function describeTarget(t: EcrTarget): string {
  if (t.kind === "public") return `ECR Public (${PUBLIC_REGION})`;
  const variant = [t.fips ? "FIPS" : "", t.dualStack ? "dual-stack" : ""].filter(Boolean).join(", ");
  return `ECR account ${t.account} in ${t.region}${variant ? ` (${variant})` : ""}`;
}
