// Release builds for every platform, into dist/release/ (npm run release):
//
//   cloud-credential-helpers-<target>.tar.gz and .tar.xz   Linux (glibc, musl) and macOS:
//       <target>/ with the four names as hardlinks of one executable, LICENSE, README.md
//   cloud-credential-helpers-windows-x64.zip               one .exe and install.ps1, which
//       creates the other three names as hardlinks (a zip cannot hold hardlinks)
//   cloud-credential-helpers_<version>_<arch>.deb           amd64, arm64
//   cloud-credential-helpers-<version>-1.<arch>.rpm         x86_64, aarch64
//   cloud-credential-helpers.rb                             Homebrew formula (macOS, Linux)
//   SHA256SUMS                                              every file above and each target's executable
//
//   bun scripts/release.ts [--outdir DIR] [--target T …] [--xz-level 0-9]
//
// --target limits the build to some targets (default: all; packages and the
// formula are made when their targets are built). --xz-level sets the xz
// preset of the .tar.xz, .deb and .rpm (default 6; 0 is about 9 times faster
// and 18 % larger, which the tests use). Bun fetches each foreign runtime
// from the npm registry once and caches it.

import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { HELPER_NAMES } from "../src/providers/index.ts";
import { ROOT, compile, fail, valuesOf } from "./compile.ts";
import { homebrewFormula } from "./release/formula.ts";
import { buildDeb, buildRpm, type PackageInfo } from "./release/packages.ts";

export interface Target {
  /** Our name, used in archive names and directories. */
  name: string;
  /** Bun's --target. */
  bun: string;
  os: "linux" | "darwin" | "windows";
  arch: "x64" | "arm64";
  libc?: "musl";
}

// No x64 "baseline" (pre-AVX2) build: Bun's baseline runtime for x64 is
// byte-identical to the default one in the version we build with.
export const TARGETS: readonly Target[] = [
  { name: "linux-x64", bun: "bun-linux-x64", os: "linux", arch: "x64" },
  { name: "linux-arm64", bun: "bun-linux-arm64", os: "linux", arch: "arm64" },
  { name: "linux-x64-musl", bun: "bun-linux-x64-musl", os: "linux", arch: "x64", libc: "musl" },
  { name: "linux-arm64-musl", bun: "bun-linux-arm64-musl", os: "linux", arch: "arm64", libc: "musl" },
  { name: "darwin-x64", bun: "bun-darwin-x64", os: "darwin", arch: "x64" },
  { name: "darwin-arm64", bun: "bun-darwin-arm64", os: "darwin", arch: "arm64" },
  { name: "windows-x64", bun: "bun-windows-x64", os: "windows", arch: "x64" },
];

const PREFIX = "cloud-credential-helpers";

async function run(cmd: string[], cwd: string): Promise<void> {
  const proc = Bun.spawn(cmd, { cwd, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) fail(`release: ${cmd.join(" ")} failed (exit ${code}): ${out}${err}`);
}

function sha256(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

function sizeMB(file: string): string {
  return (statSync(file).size / 1e6).toFixed(1);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const wanted = valuesOf(args, "--target");
  for (const t of wanted) {
    if (!TARGETS.some((k) => k.name === t))
      fail(`release: unknown target ${t} (known: ${TARGETS.map((k) => k.name).join(", ")})`);
  }
  const xzLevel = valuesOf(args, "--xz-level")[0] ?? "6";
  if (!/^[0-9]$/.test(xzLevel)) fail(`release: --xz-level takes 0 to 9, not ${xzLevel}`);
  const targets = wanted.length ? TARGETS.filter((t) => wanted.includes(t.name)) : TARGETS;
  const outdir = resolve(valuesOf(args, "--outdir")[0] ?? join(ROOT, "dist/release"));
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
    version: string;
    description: string;
    homepage: string;
    license: string;
  };
  const info: PackageInfo = { ...pkg, name: PREFIX, root: ROOT, xzLevel: Number(xzLevel) };
  mkdirSync(outdir, { recursive: true });

  const started = performance.now();
  const published: string[] = []; // paths relative to outdir, in SHA256SUMS order
  const artifacts: string[] = [];
  for (const target of targets) {
    const dir = join(outdir, target.name);
    rmSync(dir, { recursive: true, force: true });
    const windows = target.os === "windows";
    const primary = compile(dir, target.bun, windows ? { suffix: ".exe", links: false } : {});
    copyFileSync(join(ROOT, "LICENSE"), join(dir, "LICENSE"));
    copyFileSync(join(ROOT, "README.md"), join(dir, "README.md"));
    published.push(`${target.name}/${basename(primary)}`);
    const members = windows
      ? [basename(primary), "install.ps1", "LICENSE", "README.md"]
      : [...HELPER_NAMES, "LICENSE", "README.md"];
    if (windows) {
      copyFileSync(join(ROOT, "scripts/install.ps1"), join(dir, "install.ps1"));
      const zip = `${PREFIX}-${target.name}.zip`;
      rmSync(join(outdir, zip), { force: true });
      await run(["zip", "-q", "-X", "-9", zip, ...members.map((m) => `${target.name}/${m}`)], outdir);
      artifacts.push(zip);
    } else {
      // tar keeps the hardlinks: one runtime inside the archive too.
      const tar = ["tar", "--owner=0", "--group=0", "--numeric-owner", "-C", outdir];
      const paths = members.map((m) => `${target.name}/${m}`);
      const gz = `${PREFIX}-${target.name}.tar.gz`;
      const xz = `${PREFIX}-${target.name}.tar.xz`;
      await Promise.all([
        run([...tar, "-czf", join(outdir, gz), ...paths], outdir),
        run(["sh", "-c", `"$@" | xz -${xzLevel} -T0 -c > ${xz}`, "sh", ...tar, "-cf", "-", ...paths], outdir),
      ]);
      artifacts.push(gz, xz);
    }
    if (target.os === "linux" && !target.libc) {
      artifacts.push(buildDeb(info, target.arch, dir, outdir));
      artifacts.push(buildRpm(info, target.arch, dir, outdir));
    }
    console.log(`built ${target.name} (${sizeMB(primary)} MB executable)`);
  }

  // The formula names the macOS and Linux glibc tarballs; only when all four were built now.
  const brewTargets = ["darwin-arm64", "darwin-x64", "linux-arm64", "linux-x64"];
  if (brewTargets.every((t) => targets.some((k) => k.name === t))) {
    const sums = Object.fromEntries(brewTargets.map((t) => [t, sha256(join(outdir, `${PREFIX}-${t}.tar.gz`))]));
    writeFileSync(join(outdir, `${PREFIX}.rb`), homebrewFormula(info, sums));
    artifacts.push(`${PREFIX}.rb`);
  }

  published.push(...artifacts);
  writeFileSync(join(outdir, "SHA256SUMS"), published.map((f) => `${sha256(join(outdir, f))}  ${f}`).join("\n") + "\n");
  const width = Math.max(...published.map((f) => f.length));
  console.log(`\n${"file".padEnd(width)}  MB`);
  for (const f of published)
    if (existsSync(join(outdir, f))) console.log(`${f.padEnd(width)}  ${sizeMB(join(outdir, f)).padStart(6)}`);
  console.log(
    `\nrelease ${pkg.version} in ${outdir}, checksums in SHA256SUMS (${((performance.now() - started) / 1000).toFixed(0)} s)`,
  );
}

if (import.meta.main) await main();
