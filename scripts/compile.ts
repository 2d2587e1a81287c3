// One Bun compile of src/main.ts into an executable, shared by the host
// build (scripts/build.ts) and the release builds (scripts/release.ts).

import { linkSync, mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { HELPER_NAMES } from "../src/providers/index.ts";
import { COMPILE_FLAGS } from "./compile-flags.ts";

export const ROOT = resolve(import.meta.dir, "..");

export function fail(message: string): never {
  process.stderr.write(`${message.trimEnd()}\n`);
  process.exit(1);
}

/** Values of a repeatable `--flag VALUE` / `--flag=VALUE` option. */
export function valuesOf(args: string[], flag: string): string[] {
  const out: string[] = [];
  args.forEach((a, i) => {
    if (a === flag && args[i + 1]) out.push(args[i + 1]!);
    else if (a.startsWith(`${flag}=`)) out.push(a.slice(flag.length + 1));
  });
  return out;
}

function gitCommit(): string {
  const r = Bun.spawnSync(["git", "rev-parse", "--short=12", "HEAD"], { cwd: ROOT, stdout: "pipe", stderr: "ignore" });
  return r.exitCode === 0 ? r.stdout.toString().trim() : "unknown";
}

/**
 * Compiles into `outdir/<first helper name><suffix>` for `bunTarget` (null:
 * this machine) and, unless `links` is false, hardlinks the other three
 * names to it. Returns the compiled file.
 */
export function compile(outdir: string, bunTarget: string | null, options: { suffix?: string; links?: boolean } = {}): string {
  const suffix = options.suffix ?? "";
  mkdirSync(outdir, { recursive: true });
  const [first, ...others] = HELPER_NAMES as [string, ...string[]];
  const primary = join(outdir, first + suffix);
  for (const name of HELPER_NAMES) rmSync(join(outdir, name + suffix), { force: true });
  const cmd = [
    process.execPath,
    "build",
    "--compile",
    ...COMPILE_FLAGS,
    `--define=BUILD_COMMIT=${JSON.stringify(gitCommit())}`,
    ...(bunTarget ? [`--target=${bunTarget}`] : []),
    "src/main.ts",
    "--outfile",
    primary,
  ];
  const result = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe", cwd: ROOT });
  if (result.exitCode !== 0) fail(`build: ${result.stdout.toString()}${result.stderr.toString()}`);
  if (options.links !== false) for (const name of others) linkSync(primary, join(outdir, name + suffix));
  return primary;
}
