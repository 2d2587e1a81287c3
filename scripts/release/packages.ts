// .deb and .rpm packages of a Linux (glibc) release build, made with the
// standard tools: dpkg-deb, and rpmbuild from Debian's rpm. Both install
// the four helpers into /usr/bin as hardlinks of one file, with the licence
// and README, and take the place of amazon-ecr-credential-helper (Debian,
// Ubuntu and Amazon Linux package the Go ECR helper under that name, which
// owns /usr/bin/docker-credential-ecr-login).

import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { HELPER_NAMES } from "../../src/providers/index.ts";
import { fail } from "../compile.ts";

export interface PackageInfo {
  name: string;
  version: string;
  description: string;
  homepage: string;
  license: string;
  root: string;
  /** xz preset for the package payload. */
  xzLevel: number;
}

/** The Go helper's package, which owns /usr/bin/docker-credential-ecr-login. */
export const REPLACES = "amazon-ecr-credential-helper";
const DEB_ARCH = { x64: "amd64", arm64: "arm64" } as const;
const RPM_ARCH = { x64: "x86_64", arm64: "aarch64" } as const;
const SUMMARY = "Docker and kubelet credential helpers for ECR, GCR, ACR and OCIR";
// The Bun runtime's newest glibc symbol version.
const MIN_GLIBC = "2.17";

function longDescription(info: PackageInfo): string {
  return `${info.description}.\n\n${HELPER_NAMES.join(", ")}: one executable under four names (hardlinks), speaking the Docker credential helper protocol and the kubelet image credential provider protocol.`;
}

/** Paragraphs wrapped at 76 columns; an empty string between paragraphs. */
function wrap(text: string): string[] {
  const lines: string[] = [];
  for (const [i, paragraph] of text.split("\n\n").entries()) {
    if (i > 0) lines.push("");
    let line = "";
    for (const word of paragraph.split(/\s+/)) {
      if (line && line.length + 1 + word.length > 76) {
        lines.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    lines.push(line);
  }
  return lines;
}

function maintainer(info: PackageInfo): string {
  return `${info.name} maintainers <${info.homepage}/issues>`;
}

function spawn(cmd: string[], cwd: string): void {
  const r = Bun.spawnSync(cmd, { cwd, stdout: "pipe", stderr: "pipe", env: { ...process.env, LC_ALL: "C" } });
  if (r.exitCode !== 0) fail(`release: ${cmd[0]} failed: ${r.stdout.toString()}${r.stderr.toString()}`);
}

/** Lays out usr/bin (one file, three hardlinks) and the docs under `root`; returns the bytes used. */
function layout(root: string, buildDir: string, docDir: string, licenseFile: string): number {
  const bin = join(root, "usr/bin");
  mkdirSync(bin, { recursive: true });
  const [first, ...others] = HELPER_NAMES as [string, ...string[]];
  copyFileSync(join(buildDir, first), join(bin, first));
  for (const n of others) linkSync(join(bin, first), join(bin, n));
  mkdirSync(join(root, docDir), { recursive: true });
  copyFileSync(join(buildDir, "README.md"), join(root, docDir, "README.md"));
  copyFileSync(join(buildDir, "LICENSE"), join(root, docDir, licenseFile));
  return [join(bin, first), join(root, docDir, "README.md"), join(root, docDir, licenseFile)].reduce(
    (n, f) => n + statSync(f).size,
    0,
  );
}

/** Builds `<name>_<version>_<arch>.deb` from the build in `buildDir`; returns its file name. */
export function buildDeb(info: PackageInfo, arch: "x64" | "arm64", buildDir: string, outdir: string): string {
  const stage = mkdtempSync(join(outdir, ".deb-"));
  try {
    chmodSync(stage, 0o755); // the package's "./"
    const doc = `usr/share/doc/${info.name}`;
    const bytes = layout(stage, buildDir, doc, "copyright");
    mkdirSync(join(stage, "DEBIAN"));
    const control = [
      `Package: ${info.name}`,
      `Version: ${info.version}`,
      `Architecture: ${DEB_ARCH[arch]}`,
      `Maintainer: ${maintainer(info)}`,
      `Installed-Size: ${Math.ceil(bytes / 1024)}`,
      `Depends: libc6 (>= ${MIN_GLIBC})`,
      `Conflicts: ${REPLACES}`,
      `Replaces: ${REPLACES}`,
      `Provides: ${REPLACES}`,
      "Section: admin",
      "Priority: optional",
      `Homepage: ${info.homepage}`,
      `Description: ${SUMMARY}`,
      ...wrap(longDescription(info)).map((l) => (l ? ` ${l}` : " .")),
      "",
    ].join("\n");
    writeFileSync(join(stage, "DEBIAN/control"), control);
    const sums = [
      "usr/bin/" + HELPER_NAMES[0],
      `${doc}/README.md`,
      `${doc}/copyright`,
      ...HELPER_NAMES.slice(1).map((n) => `usr/bin/${n}`),
    ]
      .map(
        (f) =>
          `${createHash("md5")
            .update(readFileSync(join(stage, f)))
            .digest("hex")}  ${f}`,
      )
      .sort((a, b) => a.slice(34).localeCompare(b.slice(34)));
    writeFileSync(join(stage, "DEBIAN/md5sums"), sums.join("\n") + "\n");
    const file = `${info.name}_${info.version}_${DEB_ARCH[arch]}.deb`;
    spawn(["dpkg-deb", "--root-owner-group", "-Zxz", `-z${info.xzLevel}`, "--build", stage, join(outdir, file)], outdir);
    return file;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/** Builds `<name>-<version>-1.<arch>.rpm` from the build in `buildDir`; returns its file name. */
export function buildRpm(info: PackageInfo, arch: "x64" | "arm64", buildDir: string, outdir: string): string {
  const top = mkdtempSync(join(outdir, ".rpm-"));
  try {
    const [first, ...others] = HELPER_NAMES as [string, ...string[]];
    const spec = `
Name: ${info.name}
Version: ${info.version}
Release: 1
Summary: ${SUMMARY}
License: ${info.license}
URL: ${info.homepage}
Provides: ${REPLACES}
Obsoletes: ${REPLACES}
Conflicts: ${REPLACES}
# A Bun executable is the Bun runtime with the program appended: stripping
# it leaves plain bun. No stripping, no debuginfo package, no build-id links.
%global debug_package %{nil}
%global __os_install_post %{nil}
%global __strip /bin/true
%define _build_id_links none
%define _binary_payload w${info.xzLevel}.xzdio
AutoProv: no

%description
${wrap(longDescription(info)).join("\n")}

%install
mkdir -p %{buildroot}%{_bindir} %{buildroot}%{_docdir}/%{name} %{buildroot}%{_licensedir}/%{name}
install -m 0755 ${join(buildDir, first)} %{buildroot}%{_bindir}/${first}
${others.map((n) => `ln %{buildroot}%{_bindir}/${first} %{buildroot}%{_bindir}/${n}`).join("\n")}
install -m 0644 ${join(buildDir, "README.md")} %{buildroot}%{_docdir}/%{name}/README.md
install -m 0644 ${join(buildDir, "LICENSE")} %{buildroot}%{_licensedir}/%{name}/LICENSE

%files
${HELPER_NAMES.map((n) => `%{_bindir}/${n}`).join("\n")}
%doc %{_docdir}/%{name}/README.md
%license %{_licensedir}/%{name}/LICENSE
`;
    writeFileSync(join(top, "package.spec"), spec);
    const file = `${info.name}-${info.version}-1.${RPM_ARCH[arch]}.rpm`;
    spawn(
      [
        "rpmbuild",
        "-bb",
        "--quiet",
        `--target=${RPM_ARCH[arch]}-linux`,
        "--define",
        `_topdir ${top}`,
        "--define",
        `_rpmdir ${outdir}`,
        "--define",
        `_rpmfilename ${file}`,
        "--define",
        "_licensedir /usr/share/licenses",
        join(top, "package.spec"),
      ],
      top,
    );
    return file;
  } finally {
    rmSync(top, { recursive: true, force: true });
  }
}
