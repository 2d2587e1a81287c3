// What an upstream invocation translates to: the provider to run, with our own
// arguments and environment.

import type { ProviderName } from "../providers/index.ts";

export type Env = Readonly<Record<string, string | undefined>>;

/** How to run the provider for an upstream invocation. */
export interface UpstreamLaunch {
  provider: ProviderName;
  /** Our own arguments (e.g. ["get-credentials"]) for what upstream was asked. */
  args: string[];
  /** The environment to run with (upstream's settings mapped to ours). */
  env: Env;
  /** Extra `alias` entries: registry host → the cloud registry it stands for. */
  aliases?: Readonly<Record<string, string>>;
}

