// cloud-provider-aws's `ecr-credential-provider`: kubelet runs it with
// `get-credentials` (or nothing) and klog flags; it reads the AWS SDK's usual
// environment, and AWS_ECR_ROLE_ARN in service-account mode, as ours does.

import { KLOG_FLAGS, commandOf, parseFlags, verbosityArgs } from "./flags.ts";
import type { UpstreamLaunch } from "./launch.ts";

export function translate(args: readonly string[], env: UpstreamLaunch["env"]): UpstreamLaunch | string {
  if (args[0] === "--help" || args[0] === "-h" || args[0] === "--version") return { provider: "ecr-login", args: [args[0]], env };
  const parsed = parseFlags(args, KLOG_FLAGS);
  if (typeof parsed === "string") return parsed;
  const command = commandOf(parsed.positional);
  if (command.startsWith("unexpected")) return command;
  const verbose = verbosityArgs(parsed.flags);
  if (typeof verbose === "string") return verbose;
  return { provider: "ecr-login", args: [command, ...verbose], env };
}
