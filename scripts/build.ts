// Compiles ONE executable and installs it in dist/ under the four helper
// names as hardlinks: one Bun runtime on disk, not four. The binary
// dispatches on the name it is started under.
//
//   bun scripts/build.ts [--outdir dist]

import { existsSync, linkSync, mkdirSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { HELPER_NAMES } from "../src/providers/index.ts";

const args = process.argv.slice(2);
const outdir = resolve(valueOf("--outdir") ?? "dist");

function valueOf(flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i === -1 ? undefined : args[i + 1];
}

mkdirSync(outdir, { recursive: true });
const [first, ...others] = HELPER_NAMES as [string, ...string[]];
const primary = join(outdir, first);
for (const name of HELPER_NAMES) rmSync(join(outdir, name), { force: true });

const cmd = [
  process.execPath,
  "build",
  "--compile",
  "--minify",
  "--bytecode",
  "--format=esm",
  "--splitting",
  "src/main.ts",
  "--outfile",
  primary,
];
const started = performance.now();
const result = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe", cwd: resolve(import.meta.dir, "..") });
if (result.exitCode !== 0) {
  process.stderr.write(result.stdout.toString() + result.stderr.toString());
  process.exit(result.exitCode ?? 1);
}
for (const name of others) linkSync(primary, join(outdir, name));

const size = statSync(primary).size;
console.log(
  `built ${HELPER_NAMES.join(", ")} in ${outdir} (one ${(size / 1e6).toFixed(1)} MB executable, hardlinked) in ${((performance.now() - started) / 1000).toFixed(1)}s`,
);
if (!existsSync(primary)) process.exit(1);
