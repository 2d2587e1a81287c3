// The log scan that closes every test run: no secret that crossed a helper's
// stdin or stdout (tokens, passwords, service account tokens) may appear in
// any debug log (CCH_LOG) or stderr the tests produced.
//
//   bun scripts/scan-logs.ts <log dir>

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: bun scripts/scan-logs.ts <log dir>");
  process.exit(2);
}
let names: string[] = [];
try {
  names = readdirSync(dir);
} catch {
  // no logs: nothing leaked
}
const secrets = new Set(
  names.includes("secrets.txt")
    ? readFileSync(join(dir, "secrets.txt"), "utf8")
        .split("\n")
        // Short values (test placeholders like "s") would match by accident.
        .filter((s) => s.length >= 8)
    : [],
);
const logs = names.filter((n) => n.endsWith(".log"));
let leaks = 0;
let bytes = 0;
for (const name of logs) {
  const text = readFileSync(join(dir, name), "utf8");
  bytes += text.length;
  for (const secret of secrets) {
    if (text.includes(secret)) {
      leaks++;
      console.error(`LEAK: ${name} contains a secret (${secret.slice(0, 4)}…, ${secret.length} chars)`);
    }
  }
}
console.log(
  `log scan: ${secrets.size} secrets checked against ${logs.length} logs (${(bytes / 1024).toFixed(0)} KiB): ${leaks} leaks`,
);
process.exit(leaks === 0 ? 0 : 1);
