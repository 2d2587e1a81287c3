// Test support: isolated environments, running the built helpers as
// subprocesses, free ports, and the rule for peers (real clients and servers
// from Debian): missing in CI is a failure, elsewhere a clear skip.

import { appendFileSync, existsSync, mkdtempSync, rmSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { createServer } from "node:net";
import { test } from "bun:test";

export const ROOT = resolve(import.meta.dir, "../..");
// CCH_DIST lets parallel work build into and test separate directories.
export const DIST = process.env.CCH_DIST ? resolve(process.env.CCH_DIST) : join(ROOT, "dist");
export const IN_CI = ["1", "true"].includes((process.env.CI ?? "").toLowerCase());

/**
 * Every helper run by the tests logs its debug output here (CCH_LOG), and
 * runCommand records the secrets that crossed stdin/stdout and the stderr it
 * saw; scripts/scan-logs.ts then proves no secret reached a log or stderr.
 */
export const LOG_DIR = process.env.CCH_TEST_LOG_DIR ?? join(tmpdir(), "cch-test-logs");
mkdirSync(LOG_DIR, { recursive: true });

export type HelperName = "ecr-login" | "gcr" | "acr" | "oci";

export interface TestEnv {
  dir: string;
  /** Environment for a helper subprocess: only what the test chose, plus PATH and HOME inside `dir`. */
  env: Record<string, string>;
  configFile: string;
  configDir: string;
  cacheDir: string;
  dockerConfig: string;
  writeConfig(config: unknown): void;
  cleanup(): void;
}

/** A private HOME, XDG dirs, DOCKER_CONFIG and configuration file for one test. */
export function makeTestEnv(extra: Record<string, string> = {}): TestEnv {
  const dir = mkdtempSync(join(tmpdir(), "cch-test-"));
  const configDir = join(dir, "config");
  const cacheDir = join(dir, "cache");
  const dockerConfig = join(dir, "docker");
  const home = join(dir, "home");
  mkdirSync(dockerConfig, { recursive: true });
  mkdirSync(home, { recursive: true });
  const configFile = join(dir, "cch-config.json");
  const env: Record<string, string> = {
    PATH: `${DIST}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_CACHE_HOME: join(home, ".cache"),
    CCH_CONFIG_DIR: configDir,
    CCH_CACHE_DIR: cacheDir,
    CCH_CONFIG: configFile,
    DOCKER_CONFIG: dockerConfig,
    CCH_LOG: join(LOG_DIR, `${basename(dir)}.log`),
    // Containers tools keep auth.json under XDG_RUNTIME_DIR; keep it private to the test.
    XDG_RUNTIME_DIR: join(dir, "run"),
    REGISTRY_AUTH_FILE: join(dir, "auth.json"),
    ...extra,
  };
  mkdirSync(env.XDG_RUNTIME_DIR!, { recursive: true, mode: 0o700 });
  return {
    dir,
    env,
    configFile,
    configDir,
    cacheDir,
    dockerConfig,
    writeConfig(config: unknown) {
      writeFileSync(configFile, JSON.stringify(config, null, 2));
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Runs `dist/docker-credential-<name> args…` with `stdin`, as docker does. */
export async function runHelper(
  name: HelperName,
  args: string[],
  stdin: string,
  env: Record<string, string>,
  options: { timeoutMs?: number } = {},
): Promise<RunResult> {
  return runCommand([join(DIST, `docker-credential-${name}`), ...args], stdin, env, options);
}

export async function runCommand(
  cmd: string[],
  stdin: string,
  env: Record<string, string>,
  options: { timeoutMs?: number; cwd?: string } = {},
): Promise<RunResult> {
  const proc = Bun.spawn(cmd, {
    stdin: new Blob([stdin]),
    stdout: "pipe",
    stderr: "pipe",
    env,
    cwd: options.cwd,
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), options.timeoutMs ?? 30_000);
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  clearTimeout(timer);
  recordForLogScan(stdin, stdout, stderr);
  return { stdout, stderr, exitCode };
}

/** Notes secrets seen on stdin/stdout, and keeps stderr, for the log scan. */
export function recordForLogScan(stdin: string, stdout: string, stderr: string): void {
  const secrets = [...secretsIn(stdin), ...secretsIn(stdout)];
  if (secrets.length) appendFileSync(join(LOG_DIR, "secrets.txt"), secrets.map((s) => s.replace(/\n/g, " ") + "\n").join(""));
  if (stderr) appendFileSync(join(LOG_DIR, `stderr-${process.pid}.log`), stderr);
}

function secretsIn(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split("\n")) {
    if (!line.trimStart().startsWith("{")) continue;
    try {
      const d = JSON.parse(line) as Record<string, unknown>;
      for (const k of ["Secret", "secret", "serviceAccountToken"]) if (typeof d[k] === "string") out.push(d[k] as string);
      const auth = d.auth as Record<string, { password?: unknown }> | undefined;
      if (auth && typeof auth === "object")
        for (const a of Object.values(auth)) if (typeof a?.password === "string") out.push(a.password);
    } catch {
      // not JSON: nothing to note
    }
  }
  return out;
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

/** Path of `command` on PATH, or null. */
export function which(command: string): string | null {
  return Bun.which(command);
}

/**
 * For tests that need a peer (docker-registry, skopeo, docker, htpasswd…):
 * `peerTest(["skopeo"], "name", fn)` runs the test when all are present; when
 * one is missing it fails under CI=true and is skipped, saying why, elsewhere.
 */
export function peerTest(peers: string[], name: string, fn: () => Promise<void> | void, timeoutMs?: number): void {
  const missing = peers.filter((p) => which(p) === null);
  if (missing.length === 0) {
    test(name, fn, timeoutMs);
  } else if (IN_CI) {
    test(name, () => {
      throw new Error(`required peer not installed: ${missing.join(", ")} (.ci/run installs it)`);
    });
  } else {
    console.warn(
      `skipping "${name}": ${missing.join(", ")} not installed (apt-get install docker-registry skopeo apache2-utils)`,
    );
    test.skip(name, fn);
  }
}

/** Fails clearly when the binaries were not built (the test command builds them first). */
export function requireDist(): void {
  if (!existsSync(join(DIST, "docker-credential-ecr-login"))) {
    throw new Error("dist/ is empty: run `npm run build` first (npm test does)");
  }
}
