// cloud-provider-gcp's `auth-provider-gcp` (kOps installs it as
// `gcp-credential-provider`): `get-credentials [--authFlow gcr] [--v=N]`.
// The `gcr` flow (the node's or the pod's Google identity) is the one kubelet
// configurations use; the dockercfg flows read a docker config from instance
// metadata, which this replacement does not do.

import { KLOG_FLAGS, mergeSpecs, parseFlags, verbosityArgs } from "./flags.ts";
import type { UpstreamLaunch } from "./launch.ts";

const SPEC = mergeSpecs(KLOG_FLAGS, { values: { authFlow: "authFlow", a: "authFlow" } });
const FLOWS = ["gcr", "dockercfg", "dockercfg-url"];

export function translate(args: readonly string[], env: UpstreamLaunch["env"]): UpstreamLaunch | string {
  if (args[0] === "--help" || args[0] === "-h" || args[0] === "--version") return { provider: "gcr", args: [args[0]], env };
  const parsed = parseFlags(args, SPEC);
  if (typeof parsed === "string") return parsed;
  const [command, ...rest] = parsed.positional;
  if (command !== "get-credentials") return `unknown command ${JSON.stringify(command ?? "")} (expected get-credentials)`;
  if (rest.length) return `unexpected argument ${rest[0]}`;
  const flow = parsed.flags.get("authFlow") ?? "gcr";
  if (!FLOWS.includes(flow)) return `invalid value "${flow}" for authFlow (must be one of "gcr", "dockercfg", or "dockercfg-url")`;
  if (flow !== "gcr") return `authFlow ${flow} (a docker config from instance metadata) is not supported by this replacement; use gcr`;
  const verbose = verbosityArgs(parsed.flags);
  if (typeof verbose === "string") return verbose;
  return { provider: "gcr", args: ["get-credentials", ...verbose], env };
}
