// argv / argv0 → command. The only module that touches process.*: everything
// below gets its environment, clock, streams and paths passed in.

import { readSync, writeSync } from "node:fs";
import { basename } from "node:path";
import { isErrno } from "./fsutil.ts";
import { APP_NAME, cacheDisabled, resolvePaths, type Env } from "./paths.ts";
import { makeContext, makeLogger } from "./context.ts";
import { version as packageVersion } from "../package.json" with { type: "json" };
import { TokenCache } from "./cache.ts";
import { killChildrenAtDeadlines } from "./children.ts";
import { runAction } from "./helper.ts";
import { isAction, unknownActionMessage, usageLine } from "./protocol/docker.ts";
import { looksLikeKubeletRequest } from "./protocol/kubelet.ts";
import type { Provider, Subcommand } from "./provider.ts";
import { CredentialStore } from "./store.ts";
import type { Config } from "./config.ts";
import { parseAuthority } from "./registry.ts";

// Set by scripts/build.ts (--define); absent when running from source.
declare const BUILD_COMMIT: string | undefined;
const COMMIT = typeof BUILD_COMMIT === "string" ? BUILD_COMMIT : "source";
/** The version as `version` prints it: package version, the build's commit, the Bun runtime. */
export const VERSION = `${packageVersion} (commit ${COMMIT}, bun ${Bun.version})`;
export const MAX_STDIN_BYTES = 1 << 20;

export async function readStdin(limit = MAX_STDIN_BYTES): Promise<string> {
  // A plain blocking read of fd 0: no stream machinery on the hot path (each
  // stream layer costs RSS on every start). A non-blocking stdin (EAGAIN)
  // falls back to Bun's stream.
  const chunks: Buffer[] = [];
  let size = 0;
  const take = (chunk: Uint8Array) => {
    size += chunk.byteLength;
    if (size > limit) throw new InputTooLarge(`input on stdin is larger than ${limit} bytes`);
    chunks.push(Buffer.from(chunk));
  };
  const buf = Buffer.allocUnsafe(64 * 1024);
  try {
    for (;;) {
      const n = readSync(0, buf, 0, buf.length, null);
      if (n === 0) return Buffer.concat(chunks).toString("utf8");
      take(buf.subarray(0, n));
    }
  } catch (err) {
    if (isErrno(err, "EOF")) return Buffer.concat(chunks).toString("utf8");
    if (!isErrno(err, "EAGAIN")) throw err;
  }
  const reader = Bun.stdin.stream().getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks).toString("utf8");
    try {
      take(value);
    } catch (err) {
      await reader.cancel();
      throw err;
    }
  }
}

export class InputTooLarge extends Error {}

/** Descriptors whose output has gone to process.stdout/stderr: the rest follows, in order. */
const streamed = new Set<1 | 2>();

/**
 * Writes to stdout (1) or stderr (2) with plain write(2) calls. The first use
 * of process.stdout builds a stream and loads Bun's stream machinery: MiBs of
 * RSS and milliseconds on every start. A descriptor that is non-blocking and
 * full (EAGAIN) gets the rest through the stream; a reader that has gone
 * away (EPIPE) gets nothing.
 */
export function writeOut(fd: 1 | 2, text: string): void {
  const stream = () => (fd === 1 ? process.stdout : process.stderr);
  if (streamed.has(fd)) {
    stream().write(text);
    return;
  }
  let rest = Buffer.from(text);
  try {
    while (rest.length > 0) rest = rest.subarray(writeSync(fd, rest));
  } catch (err) {
    if (isErrno(err, "EPIPE")) return;
    if (!isErrno(err, "EAGAIN")) throw err;
    streamed.add(fd);
    stream().write(rest);
  }
}

/** Lazily loaded subcommands shared by every helper; each lives in src/commands/. */
export const SUBCOMMANDS: Readonly<Record<string, () => Promise<Subcommand>>> = {
  configure: async () => (await import("./commands/configure.ts")).configure,
  // gcloud's spelling; a provider's manifest may add flags to it (optionalRegistries).
  "configure-docker": async () => (await import("./commands/configure-docker.ts")).configureDockerSubcommand,
  doctor: async () => (await import("./commands/doctor.ts")).doctor,
  install: async () => (await import("./commands/install.ts")).install,
};

function lookupSubcommand(word: string): (() => Promise<Subcommand>) | undefined {
  return Object.hasOwn(SUBCOMMANDS, word) ? SUBCOMMANDS[word] : undefined;
}

export function helperNameFrom(argv0: string): string {
  return basename(argv0).replace(/\.(ts|js|exe)$/i, "");
}

/** Subcommands that mean "a CredentialProviderRequest is on stdin" (other kubelet plugins use get-credentials). */
export const KUBELET_SUBCOMMANDS: readonly string[] = ["kubelet", "get-credentials"];

/** What an upstream name's arguments and configuration translate to (src/upstream/). */
export interface RunOptions {
  args?: readonly string[];
  env?: Env;
  /** Extra `alias` entries: registry host → the cloud registry it stands for. */
  aliases?: Readonly<Record<string, string>>;
}

/**
 * Started under an upstream plugin's name: translate its arguments and
 * configuration and run as the matching provider. Returns when `helperName`
 * is no upstream name.
 */
export async function runUpstream(helperName: string): Promise<void> {
  const { upstreamLaunch } = await import("./upstream/index.ts");
  const launch = await upstreamLaunch(helperName, process.argv.slice(2), process.env);
  if (launch === null) return;
  if (typeof launch === "string") {
    process.stderr.write(`${helperName}: ${launch}\n`);
    process.exit(1);
  }
  const { loadProvider } = await import("./providers/index.ts");
  await run(await loadProvider(launch.provider), helperName, launch);
}

function withAliases(config: Config, aliases: Readonly<Record<string, string>> | undefined): Config {
  if (!aliases || Object.keys(aliases).length === 0) return config;
  const registries = new Map(config.registries);
  for (const [host, target] of Object.entries(aliases)) {
    const parsed = parseAuthority(host);
    if (parsed.ok && !registries.has(parsed.host.key)) registries.set(parsed.host.key, { alias: target });
  }
  return { ...config, registries };
}

export async function run(
  provider: Provider,
  helperName = `docker-credential-${provider.manifest.name}`,
  options: RunOptions = {},
): Promise<never> {
  const env: Env = options.env ?? process.env;
  killChildrenAtDeadlines();
  const rawArgs = options.args ?? process.argv.slice(2);
  const verbose = rawArgs.includes("--verbose");
  const args = rawArgs.filter((a) => a !== "--verbose");
  const out = (text: string) => writeOut(1, text);
  const err = (text: string) => writeOut(2, text);
  const finish = async (code: number): Promise<never> => {
    // Output that went through a stream drains before we exit: docker and
    // kubelet read it through a pipe.
    if (streamed.has(1)) await new Promise<void>((resolve) => process.stdout.write("", () => resolve()));
    process.exit(code);
  };

  const first = args[0];
  if (first === "--help" || first === "-h" || first === "help") {
    const { helpText } = await import("./help.ts");
    out(helpText(helperName, provider));
    return finish(0);
  }
  if (first === "--version" || first === "-v") {
    out(`${helperName} (${APP_NAME}) ${VERSION}\n`);
    return finish(0);
  }
  const loadSubcommand = first === undefined ? undefined : lookupSubcommand(first);
  if (loadSubcommand) {
    const command = await loadSubcommand();
    return finish(await command(args.slice(1), { provider, helperName, env, stdout: out, stderr: err }));
  }

  const paths = resolvePaths(env, provider.manifest);
  const log = makeLogger(env, helperName, verbose);
  const store = new CredentialStore(paths.configDir, (m) => log.debug(m));
  const cache = cacheDisabled(env, provider.manifest) ? null : TokenCache.open(paths.cacheDir, (m) => log.debug(m));
  const kubelet = async (stdin: string): Promise<never> => {
    const { runKubeletRequest } = await import("./kubelet.ts");
    const outcome = await runKubeletRequest(stdin, {
      provider,
      helperName,
      store,
      cache,
      context: (extra) => {
        const ctx = makeContext(env, paths, log, extra);
        return { ...ctx, config: withAliases(ctx.config, options.aliases) };
      },
    });
    if (outcome.stderr) err(outcome.stderr);
    out(outcome.stdout);
    return finish(outcome.exitCode);
  };
  // Docker reads a helper's errors on stdout; kubelet reads only a response there.
  const input = async (report: (text: string) => void): Promise<string | null> => {
    try {
      return await readStdin();
    } catch (e) {
      report(`${report === err ? `${helperName}: ` : ""}${(e as Error).message}\n`);
      return null;
    }
  };

  if (first !== undefined && KUBELET_SUBCOMMANDS.includes(first)) {
    const stdin = await input(err);
    return stdin === null ? finish(1) : kubelet(stdin);
  }
  if (first === undefined) {
    // Kubelet (or a CSI driver) may start us with no arguments and a request on stdin.
    const stdin = process.stdin.isTTY ? "" : await input(err);
    if (stdin === null) return finish(1);
    if (looksLikeKubeletRequest(stdin)) return kubelet(stdin);
    out(usageLine(helperName) + "\n");
    return finish(1);
  }
  // `list --details`: for people; docker and podman call plain `list`.
  const details = first === "list" && args.length === 2 && args[1] === "--details";
  if (args.length !== 1 && !details) {
    out(usageLine(helperName) + "\n");
    return finish(1);
  }
  if (!isAction(first)) {
    out(unknownActionMessage(first) + "\n");
    return finish(1);
  }

  let stdin = "";
  if (first === "get" || first === "store" || first === "erase") {
    const text = await input(out);
    if (text === null) return finish(1);
    stdin = text;
    if (first === "get" && looksLikeKubeletRequest(stdin)) return kubelet(stdin);
  }
  const outcome = await runAction(first, stdin, {
    provider,
    helperName,
    version: VERSION,
    env,
    store,
    cache,
    context: () => makeContext(env, paths, log),
    listDetails: details,
  });
  if (outcome.exitCode !== 0) log.debug(`${first}: ${outcome.stdout.trim()}`);
  out(outcome.stdout);
  return finish(outcome.exitCode);
}
