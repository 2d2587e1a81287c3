// `docker-credential-gcr configure-docker`: adds credHelpers entries and
// keeps everything else in the docker config as it was.

import { afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { ARTIFACT_REGISTRY_HOSTS } from "../../src/providers/gcr/hosts.ts";
import { requireDist, runHelper, type RunResult } from "../support/env.ts";
import { makeGcrEnv, type GcrTestEnv } from "./support.ts";

const DEFAULTS = ["gcr.io", "us.gcr.io", "eu.gcr.io", "asia.gcr.io", "staging-k8s.gcr.io", "marketplace.gcr.io"];

describe("configure-docker", () => {
  let t: GcrTestEnv;
  let configFile: string;
  const run = (...args: string[]): Promise<RunResult> => runHelper("gcr", ["configure-docker", ...args], "", t.env);
  const read = () => JSON.parse(readFileSync(configFile, "utf8"));

  beforeAll(() => requireDist());
  beforeEach(() => {
    t = makeGcrEnv();
    configFile = join(t.dockerConfig, "config.json");
  });
  afterEach(() => t.cleanup());

  test("creates the config file when missing, 0600, with the default GCR registries", async () => {
    const r = await run();
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(configFile);
    expect(read()).toEqual({ credHelpers: Object.fromEntries(DEFAULTS.map((h) => [h, "gcr"])) });
    expect(statSync(configFile).mode & 0o777).toBe(0o600);
  });

  test("creates $DOCKER_CONFIG itself if needed, and uses ~/.docker without DOCKER_CONFIG", async () => {
    const nested = join(t.dir, "new", "docker");
    const r1 = await runHelper("gcr", ["configure-docker", "--registries=gcr.io"], "", { ...t.env, DOCKER_CONFIG: nested });
    expect(r1.exitCode).toBe(0);
    expect(JSON.parse(readFileSync(join(nested, "config.json"), "utf8")).credHelpers).toEqual({ "gcr.io": "gcr" });
    const { DOCKER_CONFIG: _, ...noDockerConfig } = t.env;
    const r2 = await runHelper("gcr", ["configure-docker", "--registries=us.gcr.io"], "", noDockerConfig);
    expect(r2.exitCode).toBe(0);
    const home = JSON.parse(readFileSync(join(t.env.HOME!, ".docker", "config.json"), "utf8"));
    expect(home.credHelpers).toEqual({ "us.gcr.io": "gcr" });
  });

  test("keeps every other key, auths and other credHelpers; keeps the file's mode", async () => {
    const existing = {
      auths: { "https://index.docker.io/v1/": { auth: "dXNlcjpwYXNz" }, "quay.io": {} },
      credsStore: "desktop",
      credHelpers: { "123456789012.dkr.ecr.us-east-1.amazonaws.com": "ecr-login", "gcr.io": "gcloud" },
      proxies: { default: { httpProxy: "http://proxy:3128" } },
      experimental: "enabled",
      currentContext: "remote",
      "x-unknown-key": [1, { nested: true }, null],
    };
    writeFileSync(configFile, JSON.stringify(existing, null, 2));
    chmodSync(configFile, 0o640);
    const r = await run("--registries=gcr.io,us-docker.pkg.dev");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("gcr.io → gcr (was gcloud)");
    const after = read();
    expect(after).toEqual({
      ...existing,
      credHelpers: { ...existing.credHelpers, "gcr.io": "gcr", "us-docker.pkg.dev": "gcr" },
    });
    expect(Object.keys(after)).toEqual(Object.keys(existing));
    expect(statSync(configFile).mode & 0o777).toBe(0o640);
    // No temp file left behind.
    expect(readdirSync(t.dockerConfig)).toEqual(["config.json"]);
  });

  test("refuses a config that is not valid JSON and leaves it untouched", async () => {
    const broken = '{"auths": {"quay.io": {}},, }';
    writeFileSync(configFile, broken);
    const r = await run();
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("not valid JSON");
    expect(r.stderr).toContain("Nothing was changed");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(readFileSync(configFile, "utf8")).toBe(broken);
    writeFileSync(configFile, "[1, 2]");
    expect((await run()).exitCode).toBe(1);
    writeFileSync(configFile, '{"credHelpers": ["gcr.io"]}');
    const wrongShape = await run();
    expect(wrongShape.exitCode).toBe(1);
    expect(readFileSync(configFile, "utf8")).toBe('{"credHelpers": ["gcr.io"]}');
  });

  test("an empty file is an empty config", async () => {
    writeFileSync(configFile, "");
    expect((await run("--registries=gcr.io")).exitCode).toBe(0);
    expect(read()).toEqual({ credHelpers: { "gcr.io": "gcr" } });
  });

  test("--include-artifact-registry adds every Artifact Registry location to the defaults", async () => {
    const r = await run("--include-artifact-registry");
    expect(r.exitCode).toBe(0);
    const helpers = read().credHelpers;
    for (const host of [...DEFAULTS, ...ARTIFACT_REGISTRY_HOSTS]) expect(helpers[host]).toBe("gcr");
    expect(Object.keys(helpers)).toHaveLength(DEFAULTS.length + ARTIFACT_REGISTRY_HOSTS.length);
  });

  test("registries are normalised (scheme, path, case) and checked", async () => {
    expect((await run("--registries", "https://EU.GCR.IO/v2/, europe-west1-docker.pkg.dev")).exitCode).toBe(0);
    expect(read().credHelpers).toEqual({ "eu.gcr.io": "gcr", "europe-west1-docker.pkg.dev": "gcr" });
    const bad = await run("--registries=https://gcr.io@evil.com");
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toContain("not a registry host");
  });

  test("--dry-run prints the result and writes nothing", async () => {
    const r = await run("--dry-run", "--registries=gcr.io");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('"gcr.io": "gcr"');
    expect(existsSync(configFile)).toBe(false);
  });

  test("running it twice changes nothing the second time", async () => {
    await run();
    const first = readFileSync(configFile, "utf8");
    const again = await run();
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain("already");
    expect(readFileSync(configFile, "utf8")).toBe(first);
  });

  test("a symlinked config.json stays a symlink; its target is updated", async () => {
    const real = join(t.dir, "dotfiles", "docker-config.json");
    mkdirSync(join(t.dir, "dotfiles"));
    writeFileSync(real, JSON.stringify({ auths: {} }));
    symlinkSync(real, configFile);
    expect((await run("--registries=gcr.io")).exitCode).toBe(0);
    expect(lstatSync(configFile).isSymbolicLink()).toBe(true);
    expect(JSON.parse(readFileSync(real, "utf8"))).toEqual({ auths: {}, credHelpers: { "gcr.io": "gcr" } });
  });

  test("warns when docker could not find the helper on PATH, and still writes", async () => {
    const r = await runHelper("gcr", ["configure-docker", "--registries=gcr.io"], "", { ...t.env, PATH: "/usr/bin:/bin" });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain("docker-credential-gcr is not on PATH");
    expect(read().credHelpers).toEqual({ "gcr.io": "gcr" });
  });

  test("gcloud's positional registry list, and docker-credential-gcr's --overwrite", async () => {
    writeFileSync(configFile, JSON.stringify({ credHelpers: { "us-docker.pkg.dev": "gcloud" } }));
    const r = await run("us-docker.pkg.dev,europe-docker.pkg.dev", "--overwrite");
    expect(r.exitCode).toBe(0);
    expect(read().credHelpers).toEqual({ "us-docker.pkg.dev": "gcr", "europe-docker.pkg.dev": "gcr" });
    expect((await run(",")).exitCode).toBe(1);
  });

  test("unknown arguments are refused with the usage", async () => {
    const r = await run("--no-such-flag");
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("Usage:");
    expect(r.stderr).toContain("--include-artifact-registry");
    expect(existsSync(configFile)).toBe(false);
  });
});
