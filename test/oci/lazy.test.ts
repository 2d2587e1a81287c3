// A cache hit must not load oci-common (large): the modules the provider
// imports statically (what `get` loads before any fetch) must not import the
// SDK. Checked on the import graph as Bun's transpiler sees it, where type-only
// imports are gone and `await import()` is marked dynamic.

import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { ROOT } from "../support/env.ts";

const transpiler = new Bun.Transpiler({ loader: "ts" });

function staticGraph(entry: string): { files: Set<string>; packages: Set<string>; dynamic: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const dynamic = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const imp of transpiler.scanImports(readFileSync(file, "utf8"))) {
      const isRelative = imp.path.startsWith(".");
      if (imp.kind === "dynamic-import") dynamic.add(isRelative ? resolve(dirname(file), imp.path) : imp.path);
      else if (isRelative) visit(resolve(dirname(file), imp.path));
      else packages.add(imp.path);
    }
  };
  visit(entry);
  return { files, packages, dynamic };
}

test("the provider's static imports never reach oci-common; fetch loads it lazily", () => {
  const graph = staticGraph(join(ROOT, "src/providers/oci.ts"));
  expect([...graph.packages].filter((p) => p.startsWith("oci-"))).toEqual([]);
  expect([...graph.files].some((f) => f.endsWith("oci/fetch.ts") || f.endsWith("oci/auth.ts"))).toBe(false);
  expect(graph.dynamic).toContain(join(ROOT, "src/providers/oci/fetch.ts"));

  // The check can see the SDK where it is loaded.
  const lazy = staticGraph(join(ROOT, "src/providers/oci/fetch.ts"));
  expect(lazy.dynamic).toContain("oci-common");
});
