// argv / argv0 → command. The only module that touches process.*: everything
// below gets its environment, clock, streams and paths passed in.

import { readSync } from "node:fs";
import { basename } from "node:path";
import { isErrno } from "./fsutil.ts";
import { APP_NAME, cacheDisabled, resolvePaths, type Env } from "./paths.ts";
import { makeContext, makeLogger } from "./context.ts";
import { version as packageVersion } from "../package.json" with { type: "json" };
import { TokenCache } from "./cache.ts";
import { runAction } from "./helper.ts";
import { isAction, unknownActionMessage, usageLine } from "./protocol/docker.ts";
import { looksLikeKubeletRequest } from "./protocol/kubelet.ts";
import type { Provider, Subcommand } from "./provider.ts";
import { CredentialStore } from "./store.ts";

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

/** Lazily loaded subcommands shared by every helper; each lives in src/commands/. */
export const SUBCOMMANDS: Readonly<Record<string, () => Promise<Subcommand>>> = {
  configure: async () => (await import("./commands/configure.ts")).configure,
  "configure-docker": async () => (await import("./commands/configure-docker.ts")).configureDockerSubcommand,
  doctor: async () => (await import("./commands/doctor.ts")).doctor,
  install: async () => (await import("./commands/install.ts")).install,
};

function lookupSubcommand(provider: Provider, word: string): (() => Promise<Subcommand>) | undefined {
  const own = provider.subcommands ?? {};
  if (Object.hasOwn(own, word)) return own[word];
  return Object.hasOwn(SUBCOMMANDS, word) ? SUBCOMMANDS[word] : undefined;
}

export function helperNameFrom(argv0: string): string {
  return basename(argv0).replace(/\.(ts|js|exe)$/i, "");
}

/** Subcommands that mean "a CredentialProviderRequest is on stdin" (other kubelet plugins use get-credentials). */
export const KUBELET_SUBCOMMANDS: readonly string[] = ["kubelet", "get-credentials"];

export async function run(provider: Provider, helperName = `docker-credential-${provider.name}`): Promise<never> {
  const env: Env = process.env;
  const rawArgs = process.argv.slice(2);
  const verbose = rawArgs.includes("--verbose");
  const args = rawArgs.filter((a) => a !== "--verbose");
  const out = (text: string) => process.stdout.write(text);
  const err = (text: string) => process.stderr.write(text);
  const finish = async (code: number): Promise<never> => {
    // Let stdout drain before exiting: docker and kubelet read it through a pipe.
    await new Promise<void>((resolve) => process.stdout.write("", () => resolve()));
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
  const loadSubcommand = first === undefined ? undefined : lookupSubcommand(provider, first);
  if (loadSubcommand) {
    const command = await loadSubcommand();
    return finish(await command(args.slice(1), { provider, helperName, env, stdout: out, stderr: err }));
  }

  const paths = resolvePaths(env, provider);
  const log = makeLogger(env, helperName, verbose);
  const store = new CredentialStore(paths.configDir);
  const cache = cacheDisabled(env, provider) ? null : new TokenCache(paths.cacheDir);
  const kubelet = async (stdin: string): Promise<never> => {
    const { runKubeletRequest } = await import("./kubelet.ts");
    const outcome = await runKubeletRequest(stdin, {
      provider,
      helperName,
      store,
      cache,
      context: (extra) => makeContext(env, paths, log, extra),
    });
    if (outcome.stderr) err(outcome.stderr);
    out(outcome.stdout);
    return finish(outcome.exitCode);
  };
  const input = async (): Promise<string | null> => {
    try {
      return await readStdin();
    } catch (e) {
      out((e as Error).message + "\n");
      return null;
    }
  };

  if (first !== undefined && KUBELET_SUBCOMMANDS.includes(first)) {
    const stdin = await input();
    return stdin === null ? finish(1) : kubelet(stdin);
  }
  if (first === undefined) {
    // Kubelet (or a CSI driver) may start us with no arguments and a request on stdin.
    const stdin = process.stdin.isTTY ? "" : await input();
    if (stdin !== null && looksLikeKubeletRequest(stdin)) return kubelet(stdin);
    out(usageLine(helperName) + "\n");
    return finish(1);
  }
  if (args.length !== 1) {
    out(usageLine(helperName) + "\n");
    return finish(1);
  }
  if (!isAction(first)) {
    out(unknownActionMessage(first) + "\n");
    return finish(1);
  }

  let stdin = "";
  if (first === "get" || first === "store" || first === "erase") {
    const text = await input();
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
  });
  if (outcome.exitCode !== 0) log.debug(`${first}: ${outcome.stdout.trim()}`);
  out(outcome.stdout);
  return finish(outcome.exitCode);
}
