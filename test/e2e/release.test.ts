// npm run release: every archive, package, checksum and the formula, built
// once for the whole file (with xz preset 0, to keep the run short), each
// checked with the tool its users have: file, tar, unzip, sha256sum, dpkg
// (in a separate root, so the machine's own packages stay as they are), rpm
// (likewise); the installer image built with buildah, pushed to
// docker-registry, pulled back with skopeo and run in namespaces.

import { afterAll, beforeAll, describe, expect } from "bun:test";
import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { IN_CI, ROOT, peerTest, runCommand, type RunResult } from "../support/env.ts";
import { NAMES, expectInstalled, expectProviderConfig, nodeInstaller } from "../support/install.ts";
import { startRegistry } from "../support/registry.ts";

const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string; homepage: string };
const V = pkg.version;
const BUILD_PEERS = ["tar", "xz", "zip", "unzip", "dpkg-deb", "rpmbuild", "file", "sha256sum"];
const PATH_ENV = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root" };

// CCH_RELEASE_DIR=dist/release checks an existing release (npm run release) instead of building one.
const given = process.env.CCH_RELEASE_DIR;
const out = given ? resolve(given) : mkdtempSync(join(tmpdir(), "cch-release-"));
const scratch = mkdtempSync(join(tmpdir(), "cch-release-check-"));
let build: RunResult | null = null;

beforeAll(async () => {
  if (given) {
    build = { stdout: "", stderr: "", exitCode: 0 };
    return;
  }
  if (BUILD_PEERS.some((p) => Bun.which(p) === null)) return; // each test then fails (CI) or skips, naming the peer
  build = await runCommand([process.execPath, "scripts/release.ts", "--outdir", out, "--xz-level", "0"], "", PATH_ENV, {
    cwd: ROOT,
    timeoutMs: 900_000,
  });
}, 900_000);
afterAll(() => {
  if (!given) rmSync(out, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

/** The release build succeeded; each test starts with this. */
function built(): void {
  expect(build?.stderr ?? "no build").toBe("");
  expect(build!.exitCode).toBe(0);
}

async function sh(cmd: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<RunResult> {
  return runCommand(cmd, "", { ...PATH_ENV, LC_ALL: "C", ...options.env }, { timeoutMs: 300_000, cwd: options.cwd });
}

async function ok(cmd: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<string> {
  const r = await sh(cmd, options);
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")} failed (${r.exitCode}): ${r.stdout}${r.stderr}`);
  return r.stdout;
}

function sha256(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

/** Mach-O load command types of a 64-bit Mach-O file. */
function machoLoadCommands(file: string): number[] {
  const b = readFileSync(file);
  const cmds: number[] = [];
  for (let i = 0, off = 32; i < b.readUInt32LE(16); i++, off += b.readUInt32LE(off + 4)) cmds.push(b.readUInt32LE(off));
  return cmds;
}

// What `file` says of each target's executable: architecture, libc (the ELF interpreter), format.
const FORMATS: Record<string, RegExp> = {
  "linux-x64": /^ELF 64-bit LSB .*x86-64.*interpreter \/lib64\/ld-linux-x86-64\.so\.2, for GNU\/Linux/,
  "linux-arm64": /^ELF 64-bit LSB .*ARM aarch64.*interpreter \/lib\/ld-linux-aarch64\.so\.1, for GNU\/Linux/,
  "linux-x64-musl": /^ELF 64-bit LSB .*x86-64.*interpreter \/lib\/ld-musl-x86_64\.so\.1/,
  "linux-arm64-musl": /^ELF 64-bit LSB .*ARM aarch64.*interpreter \/lib\/ld-musl-aarch64\.so\.1/,
  "darwin-x64": /^Mach-O 64-bit x86_64 executable/,
  "darwin-arm64": /^Mach-O 64-bit arm64 executable/,
  "windows-x64": /^PE32\+ executable \(console\) x86-64.*, for MS Windows/,
};
const UNIX = Object.keys(FORMATS).filter((t) => !t.startsWith("windows"));
const PRIMARY = NAMES[0]!;
const LC_CODE_SIGNATURE = 0x1d;
// Generous: a loaded 2-core machine decompresses and hashes several 100 MB files per test.
const SLOW = 300_000;

describe("npm run release", () => {
  peerTest(
    BUILD_PEERS,
    "every executable has its platform's format; unix archives keep the hardlinks",
    async () => {
      built();
      for (const [target, format] of Object.entries(FORMATS)) {
        const exe = join(out, target, target.startsWith("windows") ? `${PRIMARY}.exe` : PRIMARY);
        expect(`${target}: ${(await ok(["file", "-b", exe])).trim()}`).toMatch(
          new RegExp(`^${target}: ${format.source.slice(1)}`),
        );
        // The musl builds link libstdc++ (README: apk add libstdc++ libgcc).
        if (target.endsWith("-musl")) expect(readFileSync(exe).includes("libstdc++.so.6")).toBe(true);
        // macOS on arm64 runs only signed code: Bun signs what it compiles (ad hoc).
        if (target.startsWith("darwin")) expect(machoLoadCommands(exe)).toContain(LC_CODE_SIGNATURE);
      }
      for (const target of UNIX) {
        for (const [ext, flag] of [
          ["tar.gz", "-tvzf"],
          ["tar.xz", "-tvJf"],
        ] as const) {
          const listing = await ok(["tar", flag, join(out, `cloud-credential-helpers-${target}.${ext}`)]);
          const names = listing
            .trim()
            .split("\n")
            .map((l) => l.split(/\s+/)[5]);
          expect(names.sort()).toEqual([...NAMES, "LICENSE", "README.md"].map((n) => `${target}/${n}`).sort());
          expect(listing.match(/ link to /g)?.length).toBe(3);
        }
      }
      // This machine's build runs, under each name, from the unpacked archive.
      const unpacked = join(scratch, "tar");
      mkdirSync(unpacked);
      await ok(["tar", "-xJf", join(out, "cloud-credential-helpers-linux-x64.tar.xz"), "-C", unpacked]);
      await expectHelpersAnswer(join(unpacked, "linux-x64"));
      rmSync(unpacked, { recursive: true });
    },
    SLOW,
  );

  peerTest(
    BUILD_PEERS,
    "Windows: a zip of one .exe and install.ps1, which makes the other names",
    async () => {
      built();
      const zip = join(out, "cloud-credential-helpers-windows-x64.zip");
      const entries = (await ok(["unzip", "-Z1", zip])).trim().split("\n").sort();
      expect(entries).toEqual(
        ["windows-x64/LICENSE", "windows-x64/README.md", `windows-x64/${PRIMARY}.exe`, "windows-x64/install.ps1"].sort(),
      );
      await ok(["unzip", "-tq", zip]);
      const script = readFileSync(join(out, "windows-x64/install.ps1"), "utf8");
      expect(script).toBe(readFileSync(join(ROOT, "scripts/install.ps1"), "utf8"));
      expect(script).toContain(`$names = @(${NAMES.map((n) => `'${n}'`).join(", ")})`);
      expect(script).toContain("New-Item -ItemType HardLink");
      // The executable dispatches on its name without the .exe (any case).
      const dir = join(scratch, "exe");
      mkdirSync(dir);
      for (const name of ["docker-credential-gcr.exe", "docker-credential-acr.EXE"]) {
        linkSync(join(out, "linux-x64", PRIMARY), join(dir, name));
        expect(await ok([join(dir, name), "version"])).toStartWith(`${name.replace(/\.exe$/i, "")} (cloud-credential-helpers)`);
      }
      rmSync(dir, { recursive: true });
    },
    SLOW,
  );

  peerTest(
    BUILD_PEERS,
    "SHA256SUMS covers every published file, and sha256sum -c agrees",
    async () => {
      built();
      const listed = readFileSync(join(out, "SHA256SUMS"), "utf8")
        .trim()
        .split("\n")
        .map((l) => l.split(/ {2}/)[1]!);
      const files = readdirSync(out).filter((f) => statSync(join(out, f)).isFile() && f !== "SHA256SUMS");
      expect(listed.filter((f) => !f.includes("/")).sort()).toEqual(files.sort());
      expect(files.length).toBe(6 * 2 + 1 + 2 + 2 + 1); // tar.gz+tar.xz, zip, debs, rpms, formula
      for (const target of Object.keys(FORMATS)) expect(listed.some((f) => f.startsWith(`${target}/${PRIMARY}`))).toBe(true);
      expect(await ok(["sha256sum", "--strict", "-c", "SHA256SUMS"], { cwd: out })).not.toContain("FAILED");
    },
    SLOW,
  );

  peerTest(
    BUILD_PEERS,
    "Homebrew formula: each platform's tarball with its checksum; four names, hardlinked",
    async () => {
      built();
      const formula = readFileSync(join(out, "cloud-credential-helpers.rb"), "utf8");
      expect(formula).toContain("class CloudCredentialHelpers < Formula");
      expect(formula).toContain(`version "${V}"`);
      const pairs = [...formula.matchAll(/url "([^"]+)"\n\s+sha256 "([0-9a-f]{64})"/g)].map((m) => [m[1]!, m[2]!] as const);
      expect(pairs.map(([url]) => url.slice(url.lastIndexOf("/") + 1)).sort()).toEqual(
        ["darwin-arm64", "darwin-x64", "linux-arm64", "linux-x64"].map((t) => `cloud-credential-helpers-${t}.tar.gz`),
      );
      for (const [url, digest] of pairs) {
        expect(url).toStartWith(`${pkg.homepage}/releases/download/v${V}/`);
        expect(sha256(join(out, url.slice(url.lastIndexOf("/") + 1)))).toBe(digest);
      }
      expect(formula).toContain(`bin.install "${PRIMARY}"`);
      expect(formula).toContain(`%w[${NAMES.slice(1).join(" ")}].each { |name| File.link(bin/"${PRIMARY}", bin/name) }`);
      expect(formula.match(/^  (def|test|on_macos|on_linux) /gm)?.length).toBe(4);
      expect(formula.match(/\bdo\b/g)?.length).toBe(formula.match(/^\s*end$/gm)!.length - 2); // balanced: class and def have no do
    },
    SLOW,
  );
});

/** The packaged helpers in `bin`: hardlinks, byte for byte the release build, each answering as itself. */
async function expectHelpersAnswer(bin: string): Promise<void> {
  expectInstalled(bin);
  expect(readFileSync(join(bin, PRIMARY)).equals(readFileSync(join(out, "linux-x64", PRIMARY)))).toBe(true);
  for (const n of NAMES) expect(await ok([join(bin, n), "version"])).toStartWith(`${n} (cloud-credential-helpers) ${V} `);
}

describe(".deb and .rpm packages", () => {
  const deb = (arch: string) => join(out, `cloud-credential-helpers_${V}_${arch}.deb`);
  const rpm = (arch: string) => join(out, `cloud-credential-helpers-${V}-1.${arch}.rpm`);

  peerTest(
    [...BUILD_PEERS, "dpkg"],
    ".deb: metadata, contents, and dpkg -i / -r in a separate root",
    async () => {
      built();
      for (const arch of ["amd64", "arm64"]) {
        const field = async (f: string) => (await ok(["dpkg-deb", "-f", deb(arch), f])).trim();
        expect(await field("Architecture")).toBe(arch);
        expect(await field("Version")).toBe(V);
        expect(await field("Homepage")).toBe(pkg.homepage);
        for (const f of ["Conflicts", "Replaces", "Provides"]) expect(await field(f)).toBe("amazon-ecr-credential-helper");
        const listing = await ok(["dpkg-deb", "-c", deb(arch)]);
        expect(listing.match(/ link to \.\/usr\/bin\/docker-credential-/g)?.length).toBe(3);
        expect(listing).toContain("./usr/share/doc/cloud-credential-helpers/copyright");
      }
      // A separate root and database: the Go helper's package is installed
      // there (a stand-in), and ours takes its place. The machine's own
      // /usr/bin/docker-credential-ecr-login is not touched.
      const hostHelper = existsSync("/usr/bin/docker-credential-ecr-login")
        ? sha256("/usr/bin/docker-credential-ecr-login")
        : null;
      const root = join(scratch, "dpkg-root");
      const admin = join(root, "var/lib/dpkg");
      for (const d of ["info", "updates", "triggers"]) mkdirSync(join(admin, d), { recursive: true });
      writeFileSync(join(admin, "available"), "");
      const stanza = (name: string, version: string, extra = "") =>
        `Package: ${name}\nStatus: install ok installed\nPriority: optional\nSection: admin\nInstalled-Size: 1\nMaintainer: test\nArchitecture: amd64\n${extra}Version: ${version}\nDescription: stand-in\n\n`;
      writeFileSync(
        join(admin, "status"),
        stanza("libc6", "2.36-9", "Multi-Arch: same\n") + stanza("amazon-ecr-credential-helper", "0.6.0-1"),
      );
      writeFileSync(join(admin, "info/libc6:amd64.list"), "");
      writeFileSync(join(admin, "info/amazon-ecr-credential-helper.list"), "/usr/bin\n/usr/bin/docker-credential-ecr-login\n");
      mkdirSync(join(root, "usr/bin"), { recursive: true });
      writeFileSync(join(root, "usr/bin/docker-credential-ecr-login"), "#!/bin/sh\necho go helper\n", { mode: 0o755 });

      const dpkg = (...args: string[]) => sh(["dpkg", `--root=${root}`, ...args]);
      const installed = await dpkg("-i", deb("amd64"));
      expect(installed.exitCode).toBe(0);
      expect(installed.stderr).toContain("will remove amazon-ecr-credential-helper in favour of cloud-credential-helpers");
      expect(await ok(["dpkg", `--root=${root}`, "-s", "cloud-credential-helpers"])).toContain("Status: install ok installed");
      expect((await dpkg("-s", "amazon-ecr-credential-helper")).stdout).not.toContain("install ok installed");
      const bin = join(root, "usr/bin");
      await expectHelpersAnswer(bin);

      expect((await dpkg("-r", "cloud-credential-helpers")).exitCode).toBe(0);
      for (const n of NAMES) expect(existsSync(join(bin, n))).toBe(false);
      if (hostHelper) expect(sha256("/usr/bin/docker-credential-ecr-login")).toBe(hostHelper);
    },
    SLOW,
  );

  peerTest(
    [...BUILD_PEERS, "rpm"],
    ".rpm: rpm -qip / -qlp, and the unstripped binary installs and runs from a separate root",
    async () => {
      built();
      for (const arch of ["x86_64", "aarch64"]) {
        const q = async (format: string) => (await ok(["rpm", "-qp", "--nosignature", "--qf", format, rpm(arch)])).trim();
        expect(await q("%{NAME} %{VERSION} %{ARCH} %{LICENSE} %{URL}")).toBe(
          `cloud-credential-helpers ${V} ${arch} Apache-2.0 ${pkg.homepage}`,
        );
        const info = await ok(["rpm", "-qip", "--nosignature", rpm(arch)]);
        expect(info).toContain("Summary     : Docker and kubelet credential helpers");
        const files = await ok(["rpm", "-qlvp", "--nosignature", rpm(arch)]);
        const target = arch === "x86_64" ? "linux-x64" : "linux-arm64";
        const size = statSync(join(out, target, PRIMARY)).size;
        for (const n of NAMES) expect(files).toMatch(new RegExp(` 4 root +root +${size} .* /usr/bin/${n}\\n`));
        expect(files).toContain("/usr/share/licenses/cloud-credential-helpers/LICENSE");
        expect(files).toContain("/usr/share/doc/cloud-credential-helpers/README.md");
        expect(files).not.toContain("build-id");
        for (const dep of ["--provides", "--conflicts", "--obsoletes"])
          expect(await ok(["rpm", "-qp", "--nosignature", dep, rpm(arch)])).toContain("amazon-ecr-credential-helper");
        expect(await ok(["rpm", "-qp", "--nosignature", "--requires", rpm(arch)])).toContain("libc.so.6(GLIBC_2.17)(64bit)");
      }
      // Install into an empty root with its own database (no glibc package there: --nodeps).
      const root = join(scratch, "rpm-root");
      mkdirSync(root);
      const rpmIn = (...args: string[]) => ok(["rpm", `--root=${root}`, "--dbpath=/var/lib/rpm", ...args]);
      await rpmIn("--initdb");
      await rpmIn("-i", "--nodeps", "--nosignature", rpm("x86_64"));
      const bin = join(root, "usr/bin");
      await expectHelpersAnswer(bin); // not stripped, or it would be plain bun
      await rpmIn("-e", "cloud-credential-helpers");
      for (const n of NAMES) expect(existsSync(join(bin, n))).toBe(false);
    },
    SLOW,
  );
});

describe("installer image", () => {
  const IMAGE_PEERS = [...BUILD_PEERS, "buildah", "skopeo", "docker-registry", "htpasswd", "unshare", "ldd"];
  peerTest(
    IMAGE_PEERS,
    "built from scratch with buildah (vfs), pushed, pulled back with skopeo; the DaemonSet's install step runs in it",
    async () => {
      built();
      if (process.getuid?.() !== 0) {
        if (IN_CI) throw new Error("the installer image test needs root (namespaces), as CI runs");
        console.warn("skipping the installer image checks: they need root (namespaces)");
        return;
      }
      const dir = join(scratch, "image");
      const storage = ["--storage-driver", "vfs", "--root", join(dir, "storage"), "--runroot", join(dir, "run")];
      mkdirSync(dir, { recursive: true });
      const tag = `localhost/cch-installer-test:${V}`;
      const id = (
        await ok([process.execPath, join(ROOT, "scripts/image.ts"), "--from", join(out, "linux-x64"), "--tag", tag, ...storage])
      ).trim();
      expect(id).toMatch(/^[0-9a-f]{64}$/);

      const user = { username: "pusher", password: `pw-${crypto.randomUUID()}` };
      const registry = await startRegistry([user]);
      try {
        const authFile = join(dir, "auth.json");
        const auth = Buffer.from(`${user.username}:${user.password}`).toString("base64");
        writeFileSync(authFile, JSON.stringify({ auths: { [registry.host]: { auth } } }), { mode: 0o600 });
        const ref = `docker://${registry.host}/cloud-credential-helpers/installer:${V}`;
        const env = { REGISTRY_AUTH_FILE: authFile, XDG_RUNTIME_DIR: join(dir, "xdg") };
        mkdirSync(env.XDG_RUNTIME_DIR, { mode: 0o700 });
        await ok(["buildah", ...storage, "push", "--quiet", "--tls-verify=false", "--authfile", authFile, tag, ref], { env });
        const layout = join(dir, "oci");
        await ok(["skopeo", "copy", "--quiet", "--src-tls-verify=false", "--authfile", authFile, ref, `oci:${layout}:pulled`], {
          env,
        });
        const inspected = JSON.parse(
          await ok(["skopeo", "inspect", "--config", "--tls-verify=false", "--authfile", authFile, ref], { env }),
        ) as { architecture: string; os: string; config: { Entrypoint: string[] } };
        expect(inspected.os).toBe("linux");
        expect(inspected.architecture).toBe("amd64");

        // Unpack the pulled image's layers into a root filesystem.
        const blob = (digest: string) => join(layout, "blobs", ...digest.split(":"));
        const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8")) as { manifests: { digest: string }[] };
        const manifest = JSON.parse(readFileSync(blob(index.manifests[0]!.digest), "utf8")) as { layers: { digest: string }[] };
        const rootfs = join(dir, "rootfs");
        mkdirSync(rootfs);
        for (const layer of manifest.layers) await ok(["tar", "-xzf", blob(layer.digest), "-C", rootfs]);
        // Nothing but the helpers, the C library and their licences.
        expect(readdirSync(rootfs).sort()).toEqual(expect.arrayContaining(["opt", "tmp", "usr"]));
        expect(readdirSync(rootfs).every((d) => ["opt", "tmp", "usr", "lib", "lib64"].includes(d))).toBe(true);
        expect(existsSync(join(rootfs, "usr/share/doc/cloud-credential-helpers/LICENSE"))).toBe(true);
        expect(existsSync(join(rootfs, "usr/share/doc/libc6/copyright"))).toBe(true);

        // The DaemonSet's init container, as kubelet would start it: its
        // command inside the image, the node's directories mounted at its
        // mount paths (here: directories in the root filesystem).
        const { init, hostPaths } = nodeInstaller(ROOT);
        expect(init.command[0]).toBe(inspected.config.Entrypoint[0]);
        expectInstalled(join(rootfs, "opt/cloud-credential-helpers"));
        for (const mountPath of hostPaths.keys()) mkdirSync(join(rootfs, mountPath), { recursive: true });
        chmodSync(rootfs, 0o755);
        mkdirSync(join(rootfs, "proc")); // a Bun executable reads itself through /proc/self/exe
        // Like a container: its own root, mount and pid namespaces with /proc (gone when it exits).
        const inImage = ["unshare", "--mount", "--pid", "--fork", `--root=${rootfs}`, "--mount-proc"];
        const r = await sh([...inImage, ...init.command]);
        expect(r.stderr).toBe("");
        expect(r.exitCode).toBe(0);
        const bin = [...hostPaths.keys()].find((m) => m.endsWith("/bin"))!;
        const config = [...hostPaths.keys()].find((m) => m.endsWith("/config"))!;
        expectInstalled(join(rootfs, bin));
        expectProviderConfig(join(rootfs, config, "config.yaml"), ["ecr-login", "gcr", "acr", "oci"]);
        expect(await ok([...inImage, `${bin}/docker-credential-oci`, "version"])).toStartWith(
          `docker-credential-oci (cloud-credential-helpers) ${V} `,
        );
      } finally {
        await registry.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    },
    SLOW,
  );
});
