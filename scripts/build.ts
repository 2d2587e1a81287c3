// Compiles ONE executable and installs it under the four helper names as
// hardlinks: one Bun runtime on disk, not four. The binary dispatches on the
// name it is started under.
//
//   bun scripts/build.ts                         this machine → dist/
//   bun scripts/build.ts --outdir DIR            this machine → DIR
//   bun scripts/build.ts --target linux-arm64 [--target darwin-arm64 …]
//       release builds → dist/release/<target>/, plus a .tar.gz of each
//       (hardlinks kept) and dist/release/SHA256SUMS
//
// Targets: linux-x64, linux-arm64, darwin-arm64 (Bun fetches the runtime
// for a foreign target from the npm registry).

import { createHash } from "node:crypto";
import { linkSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { HELPER_NAMES } from "../src/providers/index.ts";
import { COMPILE_FLAGS } from "./compile-flags.ts";

export const TARGETS = ["linux-x64", "linux-arm64", "darwin-arm64"] as const;
type Target = (typeof TARGETS)[number];

const root = resolve(import.meta.dir, "..");
const args = process.argv.slice(2);
const targets = valuesOf("--target");
for (const t of targets) {
  if (!(TARGETS as readonly string[]).includes(t)) fail(`unknown target ${t} (known: ${TARGETS.join(", ")})`);
}

function valuesOf(flag: string): string[] {
  const out: string[] = [];
  args.forEach((a, i) => {
    if (a === flag && args[i + 1]) out.push(args[i + 1]!);
    else if (a.startsWith(`${flag}=`)) out.push(a.slice(flag.length + 1));
  });
  return out;
}

function fail(message: string): never {
  process.stderr.write(`build: ${message}\n`);
  process.exit(1);
}

function gitCommit(): string {
  const r = Bun.spawnSync(["git", "rev-parse", "--short=12", "HEAD"], { cwd: root, stdout: "pipe", stderr: "ignore" });
  return r.exitCode === 0 ? r.stdout.toString().trim() : "unknown";
}

/** Compiles into `outdir` and hardlinks the four names; returns the primary file. */
function compile(outdir: string, target: Target | null): string {
  mkdirSync(outdir, { recursive: true });
  const [first, ...others] = HELPER_NAMES as [string, ...string[]];
  const primary = join(outdir, first);
  for (const name of HELPER_NAMES) rmSync(join(outdir, name), { force: true });
  const cmd = [
    process.execPath,
    "build",
    "--compile",
    ...COMPILE_FLAGS,
    `--define=BUILD_COMMIT=${JSON.stringify(gitCommit())}`,
    ...(target ? [`--target=bun-${target}`] : []),
    "src/main.ts",
    "--outfile",
    primary,
  ];
  const result = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe", cwd: root });
  if (result.exitCode !== 0) fail(result.stdout.toString() + result.stderr.toString());
  for (const name of others) linkSync(primary, join(outdir, name));
  return primary;
}

const started = performance.now();
if (targets.length === 0) {
  const outdir = resolve(valuesOf("--outdir")[0] ?? join(root, "dist"));
  const primary = compile(outdir, null);
  const mb = (statSync(primary).size / 1e6).toFixed(1);
  console.log(
    `built ${HELPER_NAMES.join(", ")} in ${outdir} (one ${mb} MB executable, hardlinked) in ${((performance.now() - started) / 1000).toFixed(1)}s`,
  );
} else {
  const releaseDir = resolve(valuesOf("--outdir")[0] ?? join(root, "dist/release"));
  const sums: string[] = [];
  for (const target of targets as Target[]) {
    const dir = join(releaseDir, target);
    rmSync(dir, { recursive: true, force: true });
    const primary = compile(dir, target);
    const tarball = join(releaseDir, `cloud-credential-helpers-${target}.tar.gz`);
    // tar keeps the hardlinks: one runtime inside the archive too.
    const tar = Bun.spawnSync(["tar", "-czf", tarball, "-C", releaseDir, ...HELPER_NAMES.map((n) => `${target}/${n}`)]);
    if (tar.exitCode !== 0) fail(`tar failed: ${tar.stderr.toString()}`);
    for (const file of [primary, tarball]) {
      const digest = createHash("sha256").update(readFileSync(file)).digest("hex");
      sums.push(`${digest}  ${file === primary ? `${target}/${basename(file)}` : basename(file)}`);
    }
    console.log(`built ${target}: ${dir} and ${basename(tarball)}`);
  }
  writeFileSync(join(releaseDir, "SHA256SUMS"), sums.join("\n") + "\n");
  console.log(`checksums in ${join(releaseDir, "SHA256SUMS")}`);
}
