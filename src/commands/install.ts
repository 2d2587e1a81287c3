// `install`: put this executable on a machine under the four helper names
// (hardlinks: one runtime on disk), and optionally write kubelet's
// CredentialProviderConfig beside it. Used by scripts/install on laptops and
// CI runners, and by the node DaemonSet in deploy/kubernetes, which runs it
// against the node's directories. Every file is replaced atomically, so a
// kubelet starting a plugin mid-install sees the old binary or the new one.

import { copyFileSync, linkSync, mkdirSync, renameSync, statSync, chmodSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { randomHex } from "../hash.ts";
import type { CommandIo } from "../provider.ts";
import { HELPER_NAMES, PROVIDER_NAMES, loadAllProviders } from "../providers/index.ts";
import { unlinkQuiet, writeFileAtomic } from "../fsutil.ts";
import { parseArgs } from "node:util";
import { credentialProviderConfig, kubeletOptionSpec, parseKubeletOptions, renderDocs } from "./configure-kubelet.ts";
import { hostKubeletMinor } from "./kubelet-versions.ts";
import { UPSTREAM_NAMES } from "../upstream/index.ts";
import { loadConfig, resolvePaths } from "../paths.ts";
import type { Config } from "../config.ts";

/** The container-image CSI driver's default credential-provider directory. */
export const CSI_DIR = "/etc/kubernetes/image-credential-providers";

export const INSTALL_USAGE = `Usage: <helper> install --bin-dir DIR [--upstream-names]
         [--kubelet-config FILE [--kubernetes-version X.Y | --host-root DIR] [configure kubelet options…]]
       <helper> install --csi [--bin-dir DIR] [--kubelet-config FILE] [configure kubelet options…]

Copies this executable into DIR as ${HELPER_NAMES.join(", ")} (hardlinks),
replacing each atomically; --upstream-names also as the upstream plugins' names
(${UPSTREAM_NAMES.join(", ")}).
With --kubelet-config, also writes a kubelet CredentialProviderConfig for the
named providers (default: all four); it takes configure kubelet's options
(--providers, --service-account-tokens, --service-account-token-audience,
--gcr-identity-provider, --gcr-workload-pool, --oci-proxymux-url, --format…).
With service account tokens the kubelet version matters: --kubernetes-version,
or --host-root, where the node's root is mounted (its kubelet is asked for its
version). A config that would still hold a <placeholder> is refused.
--csi installs for the container-image CSI driver: binaries and a JSON config
in ${CSI_DIR}/ unless --bin-dir / --kubelet-config say otherwise.
`;


export async function install(args: string[], io: CommandIo): Promise<number> {
  const usage = INSTALL_USAGE.replaceAll("<helper>", io.helperName);
  if (args.includes("--help") || args.includes("-h")) {
    io.stdout(usage);
    return 0;
  }
  const fail = (message: string, withUsage = false) => {
    io.stderr(`${io.helperName} install: ${message}\n${withUsage ? usage : ""}`);
    return 1;
  };
  let binDir: string | null = null;
  let kubeletConfig: string | null = null;
  let hostRoot: string | null = null;
  let upstreamNames = false;
  let csi = false;
  const kubeletArgs: string[] = [];
  const all = await loadAllProviders();
  const own = {
    "bin-dir": { type: "string" },
    "kubelet-config": { type: "string" },
    "host-root": { type: "string" },
    "upstream-names": { type: "boolean" },
    csi: { type: "boolean" },
  } as const;
  let tokens;
  try {
    ({ tokens } = parseArgs({ args, options: { ...kubeletOptionSpec(all), ...own }, strict: true, tokens: true }));
  } catch (err) {
    return fail((err as Error).message.replace(/\. To specify a positional argument.*$/s, ""), true);
  }
  const given = (flag: string) => kubeletArgs.some((a) => a === flag || a.startsWith(`${flag}=`));
  for (const token of tokens) {
    if (token.kind !== "option") continue;
    const { name, rawName, value } = token as { name: string; rawName: string; value?: string };
    if (name === "bin-dir") binDir = value ?? "";
    else if (name === "kubelet-config") kubeletConfig = value ?? "";
    else if (name === "host-root") hostRoot = value ?? "";
    else if (name === "upstream-names") upstreamNames = true;
    else if (name === "csi") csi = true;
    // configure kubelet's own options, passed on as given.
    else kubeletArgs.push(value === undefined ? rawName : `${rawName}=${value}`);
  }
  if (csi) {
    binDir ??= CSI_DIR;
    kubeletConfig ??= join(binDir, "config.json");
    if (!given("--format")) kubeletArgs.push("--format=json");
  }
  if (!binDir) return fail("--bin-dir is required", true);

  // Validate everything before touching the disk.
  let configText: string | null = null;
  if (kubeletConfig) {
    const withDefault = given("--providers")
      ? kubeletArgs
      : ["--providers", PROVIDER_NAMES.join(","), ...kubeletArgs];
    const opts = parseKubeletOptions(withDefault, io.provider, all);
    if (typeof opts === "string") return fail(opts);
    if (opts.serviceAccountTokens && !opts.versionGiven) {
      // The fields depend on the kubelet's version: ask it, never guess.
      if (!hostRoot) {
        return fail(
          "service account tokens need the kubelet's version: pass --kubernetes-version X.Y, or --host-root DIR where the node's root is mounted",
        );
      }
      const minor = hostKubeletMinor(hostRoot);
      if (typeof minor === "string") return fail(minor);
      opts.minor = minor;
      io.stdout(`kubelet on this node: Kubernetes 1.${minor}\n`);
    }
    let fileConfig: Config;
    try {
      fileConfig = loadConfig(resolvePaths(io.env, io.provider.manifest).configFile);
    } catch (err) {
      return fail((err as Error).message);
    }
    const out = credentialProviderConfig(opts, fileConfig);
    if (typeof out === "string") return fail(out);
    if (out.placeholders.length) {
      return fail(`refusing to write placeholders into a live kubelet configuration; set ${out.placeholders.join("; ")}`);
    }
    for (const note of out.notes) io.stdout(`note: ${note.replace(/; apply these.*$/, "")}\n`);
    configText = renderDocs([out.config], opts.format);
  }
  const self = process.execPath;
  if (/^bun(-debug)?$/.test(basename(self))) {
    return fail("run install from a built binary (npm run build), not from source");
  }

  const dir = resolve(binDir);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const [first, ...others] = HELPER_NAMES as [string, ...string[]];
  const names = upstreamNames ? [...others, ...UPSTREAM_NAMES] : others;
  const primary = join(dir, first);
  replaceAtomically(primary, (tmp) => {
    copyFileSync(self, tmp);
    chmodSync(tmp, 0o755);
  });
  for (const name of names) replaceAtomically(join(dir, name), (tmp) => linkSync(primary, tmp));
  io.stdout(`installed ${[first, ...names].join(", ")} in ${dir} (${(statSync(primary).size / 1e6).toFixed(1)} MB, hardlinked)\n`);

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
  const tmp = join(dirname(path), `.${basename(path)}.${randomHex(4)}.tmp`);
  try {
    make(tmp);
    renameSync(tmp, path);
  } catch (err) {
    unlinkQuiet(tmp);
    throw err;
  }
}
