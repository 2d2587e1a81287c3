// The generated region table must equal what the installed oci-common knows:
// after an SDK upgrade this fails until `npx bun scripts/gen-oci-regions.ts` is
// run. In a subprocess, so loading the SDK (and the environment it needs) stays
// out of this test process.

import { expect, test } from "bun:test";
import { join } from "node:path";
import { ROOT } from "../support/env.ts";
import { REALMS, REGIONS } from "../../src/providers/oci/regions.ts";

test("src/providers/oci/regions.ts matches the installed oci-common", async () => {
  const proc = Bun.spawn([process.execPath, join(ROOT, "scripts/gen-oci-regions.ts"), "--check"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/nonexistent" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
}, 30_000);

test("the table is plausible", () => {
  expect(REALMS.oc1).toBe("oraclecloud.com");
  expect(Object.keys(REALMS).length).toBeGreaterThan(10);
  expect(REGIONS.every(([id, key, realm]) => /^[a-z0-9-]+$/.test(id) && /^[a-z]{3}$/.test(key) && realm in REALMS)).toBe(true);
});
