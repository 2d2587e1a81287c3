// The names of the upstream kubelet plugins and Docker helpers this binary can
// stand in for. Started (hardlink or symlink) under one of them, it takes that
// program's arguments, configuration file and environment, and answers with
// the matching provider: a node's kubelet configuration keeps working after
// the binary is swapped.

import type { Env, UpstreamLaunch } from "./launch.ts";

export type { UpstreamLaunch } from "./launch.ts";

type Translate = (args: readonly string[], env: Env) => UpstreamLaunch | string;

const LOADERS: Readonly<Record<string, () => Promise<Translate>>> = {
  "ecr-credential-provider": async () => (await import("./ecr-credential-provider.ts")).translate,
  "acr-credential-provider": async () => (await import("./acr-credential-provider.ts")).translate,
  "auth-provider-gcp": async () => (await import("./auth-provider-gcp.ts")).translate,
  "gcp-credential-provider": async () => (await import("./auth-provider-gcp.ts")).translate,
  "credential-provider-oke": async () => (await import("./credential-provider-oke.ts")).translate,
  "oke-credential-provider": async () => (await import("./credential-provider-oke.ts")).translate,
  "docker-credential-acr-env": async () => (await import("./docker-credential-acr-env.ts")).translate,
};

/** Every upstream name, in the order `install --upstream-names` writes them. */
export const UPSTREAM_NAMES: readonly string[] = Object.keys(LOADERS);

/** null when `name` is no upstream program's; a string is a one-line error. */
export async function upstreamLaunch(name: string, args: readonly string[], env: Env): Promise<UpstreamLaunch | string | null> {
  if (!Object.hasOwn(LOADERS, name)) return null;
  const translate = await LOADERS[name]!();
  return translate(args, env);
}
