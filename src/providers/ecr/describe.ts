// For `doctor`: the plan (./plan.ts) with every step of the chain it walked,
// in order, and what each found. Local checks only (environment, the shared
// files, token file subjects), plus one quick probe of the EC2 metadata
// server when that is the source the plan picked. No SDK, no token fetched.

import type { Context, IdentityReport, IdentitySource, Target } from "../../provider.ts";
import type { EcrTarget } from "./hosts.ts";
import { planEcr, type EcrPlan } from "./plan.ts";
import { readSettings } from "./settings.ts";
import { readCapped } from "../../body.ts";

const PROBE_MS = 1000;

/** Asks the instance metadata server which role the instance has; null when it does not answer. */
export type MetadataProbe = (endpoint: string, timeoutMs: number) => Promise<{ role: string | null } | null>;

export async function describeEcrIdentity(
  target: Target<EcrTarget>,
  plan: EcrPlan,
  ctx: Context,
  probe: MetadataProbe = probeInstanceMetadata,
): Promise<IdentityReport> {
  // The same chain walked again, this time noting every step (the plan itself stops at the first find).
  const sources: IdentitySource[] = [];
  const settings = readSettings(target.settings, target.registry);
  try {
    planEcr(settings, ctx, sources);
  } catch {
    // A step configured wrong after the plan was made (a file edited meanwhile): it is in `sources` with its reason.
  }
  const leaf = plan.leaf;
  if (leaf.kind === "none" && !sources.some((s) => s.detail === leaf.reason)) {
    sources.push({ name: "AWS identity", found: false, detail: leaf.reason });
  }
  // What the fetch ends with: the registry's role when one is set, else the plan's own source.
  const usedName = settings.roleArn !== undefined ? sources.at(-1)?.name : sources.find((s) => s.found)?.name;
  const used = sources.find((s) => s.name === usedName) ?? null;
  if (plan.leaf.kind === "instance-metadata" && used !== null) {
    const step = sources.find((s) => s.name === "EC2 instance metadata")!;
    const timeoutMs = Math.min(PROBE_MS, ctx.deadline - ctx.now().getTime());
    const endpoint = plan.leaf.endpoint;
    const answer = timeoutMs > 0 ? await probe(endpoint, timeoutMs).catch(() => null) : null;
    step.found = answer?.role != null;
    step.detail =
      timeoutMs <= 0
        ? "not checked: no time left before the deadline"
        : answer === null
          ? `no answer from ${endpoint} within ${timeoutMs} ms`
          : answer.role === null
            ? `${endpoint} answers, but the instance has no IAM role`
            : `instance profile role ${answer.role} (${endpoint})`;
    if (!step.found) return { sources, used: null };
  }
  return { sources, used: used?.name ?? null };
}

/** IMDSv2: a session token (kept in memory only), then the role name. */
export const probeInstanceMetadata: MetadataProbe = async (endpoint, timeoutMs) => {
  const signal = AbortSignal.timeout(timeoutMs);
  const session = await fetch(`${endpoint}/latest/api/token`, {
    method: "PUT",
    headers: { "x-aws-ec2-metadata-token-ttl-seconds": "60" },
    signal,
  });
  if (!session.ok) return null;
  const token = await readCapped(session);
  const roles = await fetch(`${endpoint}/latest/meta-data/iam/security-credentials/`, {
    headers: { "x-aws-ec2-metadata-token": token },
    signal,
  });
  if (roles.status === 404) return { role: null };
  if (!roles.ok) return null;
  const first = (await readCapped(roles)).split("\n")[0]?.trim() ?? "";
  // A role name is [\w+=,.@-]; anything else is not what we asked for.
  return { role: /^[\w+=,.@-]{1,128}$/.test(first) ? first : null };
};
