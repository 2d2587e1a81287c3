// Compiles ONE executable for this machine and installs it under the four
// helper names as hardlinks: one Bun runtime on disk, not four. The binary
// dispatches on the name it is started under.
//
//   bun scripts/build.ts                 → dist/
//   bun scripts/build.ts --outdir DIR    → DIR
//
// Release builds for every platform, with archives and packages: npm run release
// (scripts/release.ts).

import { statSync } from "node:fs";
import { join, resolve } from "node:path";
import { HELPER_NAMES } from "../src/providers/index.ts";
import { ROOT, compile, fail, valuesOf } from "./compile.ts";

const args = process.argv.slice(2);
if (valuesOf(args, "--target").length > 0)
  fail("build: release builds are made by `npm run release` (scripts/release.ts --target …)");

const started = performance.now();
const outdir = resolve(valuesOf(args, "--outdir")[0] ?? join(ROOT, "dist"));
const primary = compile(outdir, null);
const mb = (statSync(primary).size / 1e6).toFixed(1);
console.log(
  `built ${HELPER_NAMES.join(", ")} in ${outdir} (one ${mb} MB executable, hardlinked) in ${((performance.now() - started) / 1000).toFixed(1)}s`,
);
