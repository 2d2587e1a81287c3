// Release builds: cross-compiled files are the right format, hardlinked, and
// listed with correct checksums.

import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, runCommand } from "../support/env.ts";

const out = mkdtempSync(join(tmpdir(), "cch-release-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function format(file: string): string {
  const b = readFileSync(file).subarray(0, 20);
  if (b.readUInt32BE(0) === 0x7f454c46) {
    const machine = b.readUInt16LE(18);
    return machine === 0xb7 ? "elf-arm64" : machine === 0x3e ? "elf-x64" : `elf-${machine}`;
  }
  if (b.readUInt32LE(0) === 0xfeedfacf) return b.readUInt32LE(4) === 0x0100000c ? "macho-arm64" : "macho-other";
  return "unknown";
}

describe("npm run build -- --target …", () => {
  test("linux-x64, linux-arm64 and darwin-arm64 builds with checksums", async () => {
    const r = await runCommand(
      [
        process.execPath,
        "scripts/build.ts",
        "--target",
        "linux-x64",
        "--target",
        "linux-arm64",
        "--target",
        "darwin-arm64",
        "--outdir",
        out,
      ],
      "",
      { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root" },
      { cwd: ROOT, timeoutMs: 300_000 },
    );
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    const expected: Record<string, string> = {
      "linux-x64": "elf-x64",
      "linux-arm64": "elf-arm64",
      "darwin-arm64": "macho-arm64",
    };
    for (const [target, kind] of Object.entries(expected)) {
      const files = ["ecr-login", "gcr", "acr", "oci"].map((n) => join(out, target, `docker-credential-${n}`));
      for (const f of files) expect(format(f)).toBe(kind);
      expect(new Set(files.map((f) => statSync(f).ino)).size).toBe(1);
      const listing = await runCommand(["tar", "-tvzf", join(out, `cloud-credential-helpers-${target}.tar.gz`)], "", {
        PATH: process.env.PATH ?? "",
      });
      expect(listing.stdout.match(/link to/g)?.length).toBe(3);
    }
    const sums = readFileSync(join(out, "SHA256SUMS"), "utf8").trim().split("\n");
    expect(sums.length).toBe(6);
    for (const line of sums) {
      const [digest, name] = line.split(/ {2}/) as [string, string];
      expect(
        createHash("sha256")
          .update(readFileSync(join(out, name)))
          .digest("hex"),
      ).toBe(digest);
    }
  }, 300_000);
});
