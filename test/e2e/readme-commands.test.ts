// The README's first command ends in `npm run demo`; keep it true. Also the
// smoke run. Both build dist/ themselves, as a new user's run would.

import { describe, expect, test } from "bun:test";
import { ROOT, runCommand } from "../support/env.ts";

const env = () => ({ PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root" });

describe("README commands", () => {
  test("npm run demo: all four helpers work end to end and no token is printed", async () => {
    const r = await runCommand([process.execPath, "scripts/demo.ts"], "", env(), { cwd: ROOT, timeoutMs: 120_000 });
    expect(r.stdout).toMatch(/all 4 helpers worked end to end/);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("«");
    // Redacted tokens only: no Secret or password value survives in clear.
    for (const m of r.stdout.matchAll(/"(?:Secret|password)":"([^"]*)"/g)) expect(m[1]).toMatch(/^«\d+-char token»$/);
  }, 120_000);

  test("npm run smoke", async () => {
    const r = await runCommand([process.execPath, "scripts/smoke.ts"], "", env(), { cwd: ROOT, timeoutMs: 60_000 });
    expect(r.stdout).toContain("smoke run: all four helpers answer");
    expect(r.exitCode).toBe(0);
  });
});
