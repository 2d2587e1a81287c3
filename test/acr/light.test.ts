// A cache hit must not load the Azure SDK: the provider module's static
// imports stay free of @azure/*, which is reachable only through `await import()`.

import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../support/env.ts";

test("src/providers/acr.ts bundles without @azure/identity in its entry chunk", async () => {
  const outdir = mkdtempSync(join(tmpdir(), "cch-acr-light-"));
  try {
    const result = await Bun.build({
      entrypoints: [join(ROOT, "src/providers/acr.ts")],
      target: "bun",
      format: "esm",
      splitting: true,
      outdir,
    });
    expect(result.success).toBe(true);
    const entry = result.outputs.find((o) => o.kind === "entry-point")!;
    const chunks = result.outputs.filter((o) => o.kind === "chunk");
    const entryText = await entry.text();
    expect(entryText).not.toContain("ManagedIdentityCredential");
    expect(entryText).not.toContain("msal");
    // …and the SDK is really there, behind a dynamic import.
    const lazy = await Promise.all(chunks.map((c) => c.text()));
    expect(lazy.some((t) => t.includes("ManagedIdentityCredential"))).toBe(true);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
});
