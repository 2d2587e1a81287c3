// The shape of src/ as an import graph: no cycles (static, dynamic or
// type-only), providers never import commands, the core never reaches into a
// provider's folder; and what a cache-hit `get` loads, per provider: the
// multi-call entry plus that provider's module and their static imports,
// with no cloud SDK, no node:crypto and none of the cache-miss files.

import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { PROVIDER_NAMES } from "../../src/providers/index.ts";
import { ROOT } from "../support/env.ts";

const SRC = join(ROOT, "src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

// Every way a module names another: import/export … from, bare import, import().
const SPECIFIERS = [
  /^\s*(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']/gm,
  /^\s*import\s*["']([^"']+)["']/gm,
  /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
];

/** Relative imports of every kind (type-only and dynamic included), as src-relative paths. */
function allImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const out = new Set<string>();
  for (const re of SPECIFIERS) {
    for (const m of text.matchAll(re)) {
      const spec = m[1]!;
      if (spec.startsWith(".")) out.add(relative(SRC, resolve(dirname(file), spec)));
    }
  }
  return [...out];
}

const files = sourceFiles(SRC).map((f) => relative(SRC, f));
const graph = new Map(files.map((f) => [f, allImports(join(SRC, f)).filter((d) => d.startsWith("..") === false)]));

/** Strongly connected components with more than one member, or a self-import. */
function cycles(): string[][] {
  let index = 0;
  const stack: string[] = [];
  const on = new Set<string>();
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const found: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(scc.sort());
    }
  };
  for (const f of files) if (!idx.has(f)) visit(f);
  return found;
}

describe("src/ import graph", () => {
  test("the scan sees the graph (every provider module is imported by the registry)", () => {
    expect(files.length).toBeGreaterThan(40);
    for (const name of ["ecr", "gcr", "acr", "oci"]) expect(graph.get("providers/index.ts")).toContain(`providers/${name}.ts`);
  });

  test("no import cycle of any kind", () => {
    expect(cycles()).toEqual([]);
  });

  test("providers never import commands", () => {
    const bad = [...graph].flatMap(([f, deps]) =>
      f.startsWith("providers/") ? deps.filter((d) => d.startsWith("commands/")).map((d) => `${f} → ${d}`) : [],
    );
    expect(bad).toEqual([]);
  });

  test("the core never reaches into a provider's folder", () => {
    const internal = /^providers\/[a-z-]+\//;
    const bad = [...graph].flatMap(([f, deps]) =>
      f.startsWith("providers/") ? [] : deps.filter((d) => internal.test(d)).map((d) => `${f} → ${d}`),
    );
    expect(bad).toEqual([]);
  });

  test("every provider folder has the same role files", () => {
    const roles = ["hosts.ts", "settings.ts", "plan.ts", "fetch.ts", "describe.ts", "errors.ts"];
    for (const name of ["ecr", "gcr", "acr", "oci"]) {
      const have = readdirSync(join(SRC, "providers", name));
      expect({ name, missing: roles.filter((r) => !have.includes(r)) }).toEqual({ name, missing: [] });
    }
  });
});

// What runs on a cache hit, as Bun's transpiler sees it: type-only imports are
// gone and `await import()` is dynamic (loaded only when that line runs).
const transpiler = new Bun.Transpiler({ loader: "ts" });

function staticClosure(entries: string[]): { files: Set<string>; packages: Set<string>; dynamic: Set<string> } {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const dynamic = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const imp of transpiler.scanImports(readFileSync(file, "utf8"))) {
      const local = imp.path.startsWith(".");
      const target = local ? resolve(dirname(file), imp.path) : imp.path;
      if (imp.kind === "dynamic-import") dynamic.add(local ? relative(SRC, target) : target);
      else if (local && target.endsWith(".ts")) visit(target);
      else if (!local) packages.add(imp.path);
    }
  };
  for (const e of entries) visit(e);
  return { files: new Set([...seen].map((f) => relative(SRC, f))), packages, dynamic };
}

const HOT_PACKAGES = new Set(["env-paths", "node:fs", "node:path", "node:os"]);

describe("a cache-hit get loads no SDK, for every provider", () => {
  for (const name of PROVIDER_NAMES) {
    const folder = name === "ecr-login" ? "ecr" : name;
    test(name, () => {
      const hit = staticClosure([join(SRC, "main.ts"), join(SRC, "providers", `${folder}.ts`)]);
      expect([...hit.packages].filter((p) => !HOT_PACKAGES.has(p)).sort()).toEqual([]);
      // The cache-miss and doctor halves of the provider are behind await import().
      for (const lazy of ["fetch.ts", "describe.ts"]) {
        expect(hit.files.has(`providers/${folder}/${lazy}`)).toBe(false);
        expect(hit.dynamic.has(`providers/${folder}/${lazy}`)).toBe(true);
      }
      // And the check can see an SDK where it is loaded.
      const miss = staticClosure([join(SRC, "providers", folder, "fetch.ts")]);
      expect([...miss.packages, ...miss.dynamic].some((p) => /^(@aws-sdk|google-auth-library|@azure|oci-common)/.test(p) || p.endsWith(".ts"))).toBe(true);
    });
  }
});
