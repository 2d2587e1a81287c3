// The whole tree type-checks under the strict settings of tsconfig.json
// (strict, noUncheckedIndexedAccess, noUnusedLocals…).

import { expect, test } from "bun:test";
import { join } from "node:path";
import { ROOT, runCommand } from "../support/env.ts";

test("tsc --noEmit reports no error", async () => {
  const r = await runCommand(
    [join(ROOT, "node_modules/.bin/tsc"), "--noEmit", "-p", ROOT],
    "",
    { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    { cwd: ROOT, timeoutMs: 120_000 },
  );
  expect(r.stdout + r.stderr).toBe("");
  expect(r.exitCode).toBe(0);
}, 120_000);
