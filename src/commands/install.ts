// `install`: put this executable on a machine under the four helper names
// (hardlinks: one runtime on disk), and optionally write kubelet's
// CredentialProviderConfig beside it. Used by scripts/install on laptops and
// CI runners, and by the node DaemonSet in deploy/kubernetes, which runs it
// against the node's directories. Every file is replaced atomically, so a
// kubelet starting a plugin mid-install sees the old binary or the new one.

import { copyFileSync, linkSync, mkdirSync, renameSync, statSync, chmodSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import type { CommandIo } from "../provider.ts";
import { HELPER_NAMES, PROVIDER_NAMES, loadAllProviders } from "../providers/index.ts";
import { unlinkQuiet, writeFileAtomic } from "../fsutil.ts";
import { credentialProviderConfig, parseKubeletOptions } from "./configure-kubelet.ts";
import { toYaml } from "./yaml.ts";

export const INSTALL_USAGE = `Usage: <helper> install --bin-dir DIR [--kubelet-config FILE [--providers a,b] [--service-account-tokens] [--format yaml|json]]

Copies this executable into DIR as ${HELPER_NAMES.join(", ")} (hardlinks),
replacing each atomically. With --kubelet-config, also writes a kubelet
CredentialProviderConfig for the named providers (default: all four).
`;

export async function install(args: string[], io: CommandIo): Promise<number> {
  const usage = INSTALL_USAGE.replaceAll("<helper>", io.helperName);
  if (args.includes("--help") || args.includes("-h")) {
    io.stdout(usage);
    return 0;
  }
  let binDir: string | null = null;
  let kubeletConfig: string | null = null;
  const kubeletArgs: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const value = () => inline ?? args[++i] ?? "";
    if (flag === "--bin-dir") binDir = value();
    else if (flag === "--kubelet-config") kubeletConfig = value();
    else if (flag === "--providers" || flag === "--format" || flag === "--service-account-token-audience")
      kubeletArgs.push(flag, value());
    else if (flag === "--service-account-tokens") kubeletArgs.push(flag);
    else {
      io.stderr(`${io.helperName} install: unknown option ${args[i]}\n${usage}`);
      return 1;
    }
  }
  if (!binDir) {
    io.stderr(`${io.helperName} install: --bin-dir is required\n${usage}`);
    return 1;
  }

  // Validate everything before touching the disk.
  let configText: string | null = null;
  if (kubeletConfig) {
    const withDefault = kubeletArgs.includes("--providers")
      ? kubeletArgs
      : ["--providers", PROVIDER_NAMES.join(","), ...kubeletArgs];
    const opts = parseKubeletOptions(withDefault, io.provider, await loadAllProviders());
    const config = typeof opts === "string" ? opts : credentialProviderConfig(opts);
    if (typeof config === "string") {
      io.stderr(`${io.helperName} install: ${config}\n`);
      return 1;
    }
    configText = typeof opts !== "string" && opts.format === "json" ? JSON.stringify(config, null, 2) + "\n" : toYaml(config);
  }
  const self = process.execPath;
  if (/^bun(-debug)?$/.test(basename(self))) {
    io.stderr(`${io.helperName} install: run install from a built binary (npm run build), not from source\n`);
    return 1;
  }

  const dir = resolve(binDir);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const [first, ...others] = HELPER_NAMES as [string, ...string[]];
  const primary = join(dir, first);
  replaceAtomically(primary, (tmp) => {
    copyFileSync(self, tmp);
    chmodSync(tmp, 0o755);
  });
  for (const name of others) replaceAtomically(join(dir, name), (tmp) => linkSync(primary, tmp));
  io.stdout(`installed ${HELPER_NAMES.join(", ")} in ${dir} (${(statSync(primary).size / 1e6).toFixed(1)} MB, hardlinked)\n`);

  if (kubeletConfig && configText !== null) {
    const path = resolve(kubeletConfig);
    mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
    writeFileAtomic(path, configText, 0o644);
    io.stdout(`wrote kubelet CredentialProviderConfig ${path}\n`);
    io.stdout(`kubelet flags: --image-credential-provider-config=${path} --image-credential-provider-bin-dir=${dir}\n`);
  }
  return 0;
}

function replaceAtomically(path: string, make: (tmp: string) => void): void {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    make(tmp);
    renameSync(tmp, path);
  } catch (err) {
    unlinkQuiet(tmp);
    throw err;
  }
}
