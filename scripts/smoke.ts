// A visible smoke run of the four built binaries, in a throwaway HOME:
// version, a host no cloud serves (not found), and a store/get/list/erase
// round trip, exactly as docker would call them.
//
//   bun scripts/smoke.ts

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { HELPER_NAMES } from "../src/providers/index.ts";

const dist = resolve(import.meta.dir, "../dist");
const home = mkdtempSync(join(tmpdir(), "cch-smoke-"));
const env = {
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  HOME: home,
  XDG_CONFIG_HOME: join(home, ".config"),
  XDG_CACHE_HOME: join(home, ".cache"),
};
let failures = 0;

function call(name: string, action: string, stdin: string, expectCode: number): string {
  const r = Bun.spawnSync([join(dist, name), action], { stdin: Buffer.from(stdin), env });
  const out = r.stdout.toString().trim();
  const ok = r.exitCode === expectCode;
  if (!ok) failures++;
  const shown = stdin ? `echo ${JSON.stringify(stdin)} | ` : "";
  console.log(`${ok ? "ok  " : "FAIL"} ${shown}${name} ${action}  →  ${out} (exit ${r.exitCode})`);
  return out;
}

try {
  for (const name of HELPER_NAMES) {
    call(name, "version", "", 0);
    call(name, "get", "nothing.example.com", 1);
  }
  const h = HELPER_NAMES[0]!;
  call(h, "store", JSON.stringify({ ServerURL: "registry.example.com", Username: "demo", Secret: "demo-secret" }), 0);
  call(h, "get", "https://registry.example.com/v2/", 0);
  call(h, "list", "", 0);
  call(h, "erase", "registry.example.com", 0);
  call(h, "get", "registry.example.com", 1);
} finally {
  rmSync(home, { recursive: true, force: true });
}
console.log(failures === 0 ? "smoke run: all four helpers answer" : `smoke run: ${failures} unexpected answers`);
process.exit(failures === 0 ? 0 : 1);
