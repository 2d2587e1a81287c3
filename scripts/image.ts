// The node-installer image, built without a daemon and without a base image:
// FROM scratch, the Linux release build of the helpers in
// /opt/cloud-credential-helpers, and the shared libraries it links (glibc),
// taken from this machine's Debian packages together with their copyright
// files. Builds for this machine's architecture only (the libraries come
// from it). deploy/Dockerfile is the same image on a slim Debian base, for
// building online with docker.
//
//   bun scripts/image.ts --from dist/release/linux-x64 --tag NAME[:TAG]
//       [--storage-driver vfs] [--root DIR --runroot DIR]
//
// The buildah options are passed on (vfs works in CI, unprivileged
// containers and nested builds). Prints the image ID.

import {
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { HELPER_NAMES } from "../src/providers/index.ts";
import { ROOT, fail, valuesOf } from "./compile.ts";

export const IMAGE_DIR = "/opt/cloud-credential-helpers";

function capture(cmd: string[]): string {
  const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe", env: { ...process.env, LC_ALL: "C" } });
  if (r.exitCode !== 0) fail(`image: ${cmd.join(" ")} failed: ${r.stderr.toString()}${r.stdout.toString()}`);
  return r.stdout.toString();
}

/** The shared libraries and the program interpreter `binary` loads, as absolute paths (ldd). */
export function sharedLibraries(binary: string): string[] {
  const out: string[] = [];
  for (const line of capture(["ldd", binary]).split("\n")) {
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (m) out.push(m[1]!);
  }
  if (out.length === 0) fail(`image: ldd found no libraries for ${binary}`);
  return out;
}

function main(): void {
  const args = process.argv.slice(2);
  const from = valuesOf(args, "--from")[0];
  const tag = valuesOf(args, "--tag")[0];
  if (!from || !tag)
    fail("usage: bun scripts/image.ts --from DIR --tag NAME[:TAG] [--storage-driver D] [--root DIR --runroot DIR]");
  const buildah = ["buildah"];
  for (const flag of ["--storage-driver", "--root", "--runroot"]) for (const v of valuesOf(args, flag)) buildah.push(flag, v);

  const [first, ...others] = HELPER_NAMES as [string, ...string[]];
  const binary = resolve(from, first);
  if (!existsSync(binary)) fail(`image: no ${first} in ${from} (npm run release -- --target linux-x64)`);
  const arch = capture(["dpkg", "--print-architecture"]).trim();
  const machine = capture(["file", "-L", binary]);
  const expected = { amd64: "x86-64", arm64: "aarch64" }[arch];
  if (!expected || !machine.includes(expected) || machine.includes("musl"))
    fail(`image: ${binary} is not a glibc ${expected ?? arch} executable; build the image on a machine of its architecture`);
  const version = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;

  // The root filesystem, laid out in a temporary directory and copied in at once.
  const rootfs = mkdtempSync(join(tmpdir(), "cch-image-"));
  try {
    const opt = join(rootfs, IMAGE_DIR);
    mkdirSync(opt, { recursive: true });
    copyFileSync(binary, join(opt, first));
    // Hardlinks: one runtime in the layer, not four.
    for (const name of others) linkSync(join(opt, first), join(opt, name));
    const docs = join(rootfs, "usr/share/doc");
    mkdirSync(join(docs, "cloud-credential-helpers"), { recursive: true });
    copyFileSync(join(ROOT, "LICENSE"), join(docs, "cloud-credential-helpers/LICENSE"));
    const packages = new Set<string>();
    for (const lib of sharedLibraries(binary)) {
      mkdirSync(join(rootfs, dirname(lib)), { recursive: true });
      copyFileSync(realpathSync(lib), join(rootfs, lib));
      // Which Debian package it came from (usrmerge: the package may name /usr/lib/…).
      const owner =
        Bun.spawnSync(["dpkg", "-S", lib], { stdout: "pipe", stderr: "ignore" }).stdout.toString() ||
        Bun.spawnSync(["dpkg", "-S", realpathSync(lib)], { stdout: "pipe", stderr: "ignore" }).stdout.toString();
      const pkg = owner.split(":")[0]?.trim();
      if (pkg) packages.add(pkg);
    }
    for (const pkg of packages) {
      const copyright = `/usr/share/doc/${pkg}/copyright`;
      if (!existsSync(copyright)) continue;
      mkdirSync(join(docs, pkg), { recursive: true });
      copyFileSync(copyright, join(docs, pkg, "copyright"));
    }
    mkdirSync(join(rootfs, "tmp"), { mode: 0o1777 });
    writeFileSync(join(docs, "cloud-credential-helpers/libraries"), [...packages].map((p) => `${p}\n`).join(""));

    const container = capture([...buildah, "from", "--quiet", "scratch"]).trim();
    try {
      capture([...buildah, "copy", "--quiet", container, `${rootfs}/`, "/"]);
      capture([
        ...buildah,
        "config",
        "--os",
        "linux",
        "--arch",
        arch,
        "--entrypoint",
        JSON.stringify([`${IMAGE_DIR}/${first}`]),
        "--cmd",
        "--help",
        "--label",
        "org.opencontainers.image.title=cloud-credential-helpers",
        "--label",
        `org.opencontainers.image.version=${version}`,
        "--label",
        "org.opencontainers.image.licenses=Apache-2.0",
        container,
      ]);
      const id = capture([...buildah, "commit", "--quiet", "--rm", container, tag]).trim();
      console.log(id);
    } catch (e) {
      Bun.spawnSync([...buildah, "rm", container], { stdout: "ignore", stderr: "ignore" });
      throw e;
    }
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
}

if (import.meta.main) main();
