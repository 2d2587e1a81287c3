// `configure docker` on any helper: each registry goes to the helper whose
// cloud serves it; --containers writes podman/skopeo's auth.json too.

import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { makeTestEnv, requireDist, runHelper, type TestEnv } from "../support/env.ts";

let t: TestEnv;
beforeEach(() => {
  requireDist();
  t = makeTestEnv();
});
afterEach(() => t.cleanup());

const HOSTS = {
  "123456789012.dkr.ecr.us-east-1.amazonaws.com": "ecr-login",
  "public.ecr.aws": "ecr-login",
  "gcr.io": "gcr",
  "europe-west1-docker.pkg.dev": "gcr",
  "myreg.azurecr.io": "acr",
  "fra.ocir.io": "oci",
  "registry.example.com": "acr", // no cloud serves it: the helper that was asked
};

describe("configure docker", () => {
  test("routes each registry to its cloud's helper, in docker's config.json and containers' auth.json", async () => {
    writeFileSync(t.env.REGISTRY_AUTH_FILE!, JSON.stringify({ auths: { "quay.io": { auth: "eDp5" } } }));
    const r = await runHelper(
      "acr",
      ["configure", "docker", "--registries", Object.keys(HOSTS).join(","), "--containers"],
      "",
      t.env,
    );
    expect(r.exitCode).toBe(0);
    const docker = JSON.parse(readFileSync(join(t.dockerConfig, "config.json"), "utf8"));
    expect(docker.credHelpers).toEqual(HOSTS);
    const auth = JSON.parse(readFileSync(t.env.REGISTRY_AUTH_FILE!, "utf8"));
    expect(auth).toEqual({ auths: { "quay.io": { auth: "eDp5" } }, credHelpers: HOSTS });
  });

  test("an alias in the configuration file routes a custom host to its cloud", async () => {
    t.writeConfig({ registries: { "mirror.internal:5000": { alias: "gcr.io" } } });
    const r = await runHelper("ecr-login", ["configure-docker", "--registries=mirror.internal:5000"], "", t.env);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(readFileSync(join(t.dockerConfig, "config.json"), "utf8")).credHelpers).toEqual({
      "mirror.internal:5000": "gcr",
    });
  });

  test("a typo in a served registry's settings is reported, never written as another helper's entry", async () => {
    const ecr = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
    t.writeConfig({ registries: { [ecr]: { profle: "prod" } } });
    writeFileSync(join(t.dockerConfig, "config.json"), JSON.stringify({ credHelpers: { "quay.io": "x" } }));
    const r = await runHelper("gcr", ["configure-docker", `--registries=${ecr}`], "", t.env);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`unknown setting "profle"`);
    expect(r.stderr).toContain("Nothing was changed");
    expect(JSON.parse(readFileSync(join(t.dockerConfig, "config.json"), "utf8"))).toEqual({ credHelpers: { "quay.io": "x" } });
  });

  test("--dry-run writes nothing; no target is a usage error", async () => {
    const d = await runHelper("oci", ["configure", "docker", "--registries", "fra.ocir.io", "--dry-run"], "", t.env);
    expect(d.exitCode).toBe(0);
    expect(d.stdout).toContain('"fra.ocir.io": "oci"');
    expect(existsSync(join(t.dockerConfig, "config.json"))).toBe(false);
    const u = await runHelper("oci", ["configure"], "", t.env);
    expect(u.exitCode).toBe(1);
    expect(u.stderr).toContain("configure <docker|kubelet>");
  });
});
