// Go-style command-line flags as the upstream plugins take them: `-name value`,
// `-name=value`, `--name value`, `--name=value`, and booleans without a value.
// Pure: the caller says which flags exist; anything else is an error.

export interface FlagSpec {
  /** Names without dashes, each mapped to its canonical name. */
  values?: Readonly<Record<string, string>>;
  booleans?: Readonly<Record<string, string>>;
}

export interface ParsedFlags {
  flags: Map<string, string>;
  positional: string[];
}

export function parseFlags(args: readonly string[], spec: FlagSpec): ParsedFlags | string {
  const flags = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (!/^--?[A-Za-z]/.test(arg)) {
      positional.push(arg);
      continue;
    }
    const [rawName, inline] = arg.replace(/^--?/, "").split(/=(.*)/s, 2) as [string, string | undefined];
    const valueName = spec.values?.[rawName];
    const boolName = spec.booleans?.[rawName];
    if (valueName !== undefined) {
      const value = inline ?? args[++i];
      if (value === undefined) return `flag needs an argument: ${arg}`;
      flags.set(valueName, value);
    } else if (boolName !== undefined) {
      if (inline !== undefined && !["true", "false", "1", "0"].includes(inline)) return `invalid boolean value for ${arg}`;
      flags.set(boolName, inline === undefined || inline === "true" || inline === "1" ? "true" : "false");
    } else {
      return `unknown flag ${arg.split("=")[0]}`;
    }
  }
  return { flags, positional };
}

/** klog's verbosity flag, which every upstream plugin accepts: `--v=N` / `-v N`. */
export const KLOG_FLAGS: FlagSpec = {
  values: { v: "v" },
  booleans: { logtostderr: "logtostderr", alsologtostderr: "alsologtostderr" },
};

export function mergeSpecs(...specs: FlagSpec[]): FlagSpec {
  return {
    values: Object.assign({}, ...specs.map((s) => s.values ?? {})),
    booleans: Object.assign({}, ...specs.map((s) => s.booleans ?? {})),
  };
}

/** klog verbosity 4 and up (upstream's detail level) turns on our debug log, on stderr as klog's. */
export function verbosityArgs(flags: Map<string, string>): string[] | string {
  const v = flags.get("v");
  if (v === undefined) return [];
  if (!/^\d+$/.test(v)) return `invalid value "${v}" for flag -v: must be a number`;
  return Number(v) >= 4 ? ["--verbose"] : [];
}

/**
 * What a plugin that takes no subcommand was asked: nothing or
 * `get-credentials` (kubelet configurations written for other plugins pass
 * it) is a kubelet request; `get` (as guides tell people to try a provider
 * by hand) is ours, which reads a request or a server URL on stdin.
 * Anything else: "unexpected argument …".
 */
export function commandOf(positional: readonly string[]): string {
  if (positional.length === 0) return "get-credentials";
  if (positional.length === 1 && (positional[0] === "get-credentials" || positional[0] === "get")) return positional[0];
  const bad = positional.find((p) => p !== "get-credentials" && p !== "get") ?? positional[1]!;
  return `unexpected argument ${bad} (expected get-credentials)`;
}
