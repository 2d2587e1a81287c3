// `configure <what>`: wire the helpers into a client's configuration.

import type { CommandIo, Subcommand } from "../provider.ts";

type Loader = () => Promise<Subcommand>;

const TARGETS: Record<string, Loader> = {
  docker: async () => (await import("./configure-docker.ts")).configureDockerSubcommand,
  kubelet: async () => (await import("./configure-kubelet.ts")).configureKubelet,
};

export const configure: Subcommand = async (args: string[], io: CommandIo) => {
  const [what, ...rest] = args;
  const load = what !== undefined && Object.hasOwn(TARGETS, what) ? TARGETS[what] : undefined;
  if (!load) {
    io.stderr(`Usage: ${io.helperName} configure <${Object.keys(TARGETS).join("|")}> [options]   (--help for each)\n`);
    return what === undefined || what === "--help" ? (what === "--help" ? 0 : 1) : 1;
  }
  return (await load())(rest, io);
};
