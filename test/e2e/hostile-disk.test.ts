// The helpers as an attacker and an unlucky user meet them: another local
// user's files in a shared directory, read-only and full disks, a broken log,
// hostile kubelet input, a child process that never ends. Run as root so the
// test can chown, mount and drop privileges (setpriv: a second user needs no
// account; root ignores mode bits, so read-only cases run as that user or on
// a read-only mount). Without root these fail under CI=true, else skip.

import { afterEach, describe, expect, test } from "bun:test";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { provider as gcrProvider } from "../../src/providers/gcr.ts";
import { parseConfig } from "../../src/config.ts";
import { TokenCache } from "../../src/cache.ts";
import { cacheKeyFor } from "../support/locks.ts";
import { IN_CI, DIST, runCommand, runHelper, type RunResult } from "../support/env.ts";
import { makeGcrEnv, type GcrTestEnv } from "../gcr/support.ts";

const USER = 12345;
const OTHER = 12346;
const TOKEN = "ya29.hostile-disk-test-token-0123456789";
const IS_ROOT = process.getuid?.() === 0;
const SETPRIV = Bun.which("setpriv");

/** Root (and setpriv) or nothing: fails in CI, skips elsewhere, saying why. */
function rootTest(name: string, fn: () => Promise<void>, timeoutMs = 30_000): void {
  const missing = !IS_ROOT ? "root" : SETPRIV === null ? "setpriv (util-linux)" : null;
  if (missing === null) test(name, fn, timeoutMs);
  else if (IN_CI) test(name, () => Promise.reject(new Error(`needs ${missing}`)));
  else {
    console.warn(`skipping "${name}": needs ${missing}`);
    test.skip(name, fn);
  }
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) {
    try {
      cleanups.pop()!();
    } catch (err) {
      console.warn(`cleanup: ${(err as Error).message}`);
    }
  }
});

/** A gcr helper whose token comes from a fake `gcloud` (no network), in a fresh directory. */
function gcrEnv(): GcrTestEnv {
  const expiry = new Date(Date.now() + 3600_000).toISOString();
  const t = makeGcrEnv({}, { token: TOKEN, expiry });
  t.writeConfig({ registries: { "gcr.io": { source: "gcloud" } } });
  chmodSync(t.configFile, 0o600);
  cleanups.push(() => t.cleanup());
  return t;
}

const gcloudRuns = (t: GcrTestEnv) =>
  existsSync(t.gcloudMarker) ? readFileSync(t.gcloudMarker, "utf8").split("\n").length - 1 : 0;

function expectToken(r: RunResult): void {
  expect({ exitCode: r.exitCode, stdout: r.stdout }).toEqual({
    exitCode: 0,
    stdout: JSON.stringify({ ServerURL: "gcr.io", Username: "oauth2accesstoken", Secret: TOKEN }) + "\n",
  });
}

/** Runs the helper as the second user, whose HOME and directories are under t.dir. */
function runAsUser(t: GcrTestEnv, args: string[], stdin: string, env: Record<string, string> = {}): Promise<RunResult> {
  const bin = join(DIST, "docker-credential-gcr");
  return runCommand([SETPRIV!, "--reuid", String(USER), "--regid", String(USER), "--clear-groups", bin, ...args], stdin, {
    ...t.env,
    CCH_LOG: join(t.dir, "helper.log"),
    ...env,
  });
}

function giveToUser(path: string): void {
  chownSync(path, USER, USER);
  for (const name of readdirSync(path)) {
    const p = join(path, name);
    if (statSync(p).isDirectory()) giveToUser(p);
    else chownSync(p, USER, USER);
  }
}

function sh(cmd: string[]): void {
  const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")}: ${r.stderr.toString()}`);
}

const cacheFileFor = (t: GcrTestEnv) => {
  const config = parseConfig(readFileSync(t.configFile, "utf8"), t.configFile);
  return new TokenCache(t.cacheDir).fileFor(cacheKeyFor(gcrProvider, "gcr.io", t.env, config));
};

/** `store` of a login for `server`, as docker login does. */
const storeLogin = (server: string, secret: string, env: Record<string, string>) =>
  runHelper("gcr", ["store"], JSON.stringify({ ServerURL: server, Username: "u", Secret: secret }), env);

const tempFiles = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith(".tmp")) : []);

describe("files written by another user are not trusted", () => {
  rootTest("a configuration file another user owns is an error naming it; nothing is fetched", async () => {
    const t = gcrEnv();
    chownSync(t.configFile, OTHER, OTHER);
    const r = await t.get("gcr.io");
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe(`configuration file ${t.configFile} is owned by uid ${OTHER}, not by you (uid 0) or root; not used\n`);
    expect(gcloudRuns(t)).toBe(0);
  });

  rootTest("a saved-credentials file another user planted is an error naming it, never served", async () => {
    const t = gcrEnv();
    mkdirSync(t.configDir, { mode: 0o700 });
    const planted = join(t.configDir, "credentials.json");
    const secret = "planted-secret-value";
    writeFileSync(
      planted,
      JSON.stringify({ version: 1, credentials: { "gcr.io": { serverURL: "gcr.io", username: "u", secret } } }),
      {
        mode: 0o600,
      },
    );
    chownSync(planted, OTHER, OTHER);
    const r = await t.get("gcr.io");
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe(
      `the saved credentials file ${planted} is owned by uid ${OTHER}, not by you (uid 0) or root; nothing was read or changed\n`,
    );
    const store = await storeLogin("gcr.io", "mine-secret", t.env);
    expect(store.exitCode).toBe(1);
    const doctor = await runHelper("gcr", ["doctor", "gcr.io"], "", t.env);
    expect(doctor).toMatchObject({ exitCode: 1, stderr: "" });
    expect(doctor.stdout).toContain(`✘ provider the saved credentials file ${planted} is owned by uid ${OTHER}`);
    expect(readFileSync(planted, "utf8")).toContain(secret);
  });

  rootTest("a cached token another user planted is ignored; the token is fetched", async () => {
    const t = gcrEnv();
    const file = cacheFileFor(t);
    const key = cacheKeyFor(gcrProvider, "gcr.io", t.env, parseConfig(readFileSync(t.configFile, "utf8"), t.configFile));
    mkdirSync(t.cacheDir, { mode: 0o700 });
    const now = Date.now();
    const entry = { v: 1, key, provider: "gcr", host: "gcr.io", username: "oauth2accesstoken", secret: "planted-token-value" };
    writeFileSync(file, JSON.stringify({ ...entry, issuedAt: now, expiresAt: now + 3600_000 }), { mode: 0o600 });
    chownSync(file, OTHER, OTHER);
    const r = await t.get("gcr.io", { CCH_DEBUG: "true" });
    expectToken(r);
    expect(gcloudRuns(t)).toBe(1);
    expect(r.stderr).toContain(`the cache file ${file} is owned by uid ${OTHER}`);
  });

  rootTest("a lock another user planted, or one dated in the future with pid 1, does not block the key", async () => {
    const t = gcrEnv();
    const lock = cacheFileFor(t).replace(".token.json", ".lock");
    mkdirSync(t.cacheDir, { mode: 0o700 });
    writeFileSync(lock, `1 ${Date.now() + 3600_000} abcd`, { mode: 0o600 });
    expectToken(await t.get("gcr.io", { CCH_TIMEOUT: "30" }));
    expect(existsSync(lock)).toBe(false);
    rmSync(cacheFileFor(t));
    writeFileSync(lock, `1 ${Date.now()} abcd`, { mode: 0o600 });
    chownSync(lock, OTHER, OTHER);
    const r = await t.get("gcr.io", { CCH_TIMEOUT: "30", CCH_DEBUG: "true" });
    expectToken(r);
    expect(r.stderr).toContain(`the lock ${lock} is owned by uid ${OTHER}`);
    expect(r.stderr).toContain("fetching the token without the lock");
  });
});

describe("directories we did not create keep their mode", () => {
  rootTest("an existing cache or config directory is never chmod-ed; a shared one is not used", async () => {
    const t = gcrEnv();
    mkdirSync(t.cacheDir);
    chmodSync(t.cacheDir, 0o755);
    mkdirSync(t.configDir);
    chmodSync(t.configDir, 0o750);
    expectToken(await t.get("gcr.io"));
    const store = await storeLogin("other.example", "s-value-1", t.env);
    expect(store.exitCode).toBe(0);
    expect(statSync(t.cacheDir).mode & 0o7777).toBe(0o755);
    expect(statSync(t.configDir).mode & 0o7777).toBe(0o750);
    expect(statSync(join(t.configDir, "credentials.json")).mode & 0o777).toBe(0o600);

    // A sticky, world-writable directory (/tmp) as the cache, through a symbolic link: left as it is, not used.
    const shared = join(t.dir, "shared");
    mkdirSync(shared);
    chmodSync(shared, 0o1777);
    symlinkSync(shared, join(t.dir, "cache-link"));
    for (let i = 0; i < 2; i++) expectToken(await t.get("gcr.io", { CCH_CACHE_DIR: join(t.dir, "cache-link") }));
    expect(gcloudRuns(t)).toBe(3);
    expect(statSync(shared).mode & 0o7777).toBe(0o1777);
    expect(readdirSync(shared)).toEqual([]);
  });
});

describe("disk trouble never costs an answer", () => {
  rootTest("a cache the user cannot write: the token is served, nothing is left behind", async () => {
    const t = gcrEnv();
    mkdirSync(t.cacheDir, { mode: 0o755 });
    giveToUser(t.dir);
    chownSync(t.cacheDir, 0, 0); // root's, readable, not writable by the user
    const r = await runAsUser(t, ["get"], "gcr.io");
    expectToken(r);
    expect(readdirSync(t.cacheDir)).toEqual([]);
  });

  rootTest("a read-only mount: get answers, store refuses with one line naming the file", async () => {
    const t = gcrEnv();
    mkdirSync(t.cacheDir, { mode: 0o700 });
    mkdirSync(t.configDir, { mode: 0o700 });
    writeFileSync(join(t.configDir, "credentials.json"), JSON.stringify({ version: 1, credentials: {} }), { mode: 0o600 });
    for (const d of [t.cacheDir, t.configDir]) {
      sh(["mount", "--bind", d, d]);
      cleanups.push(() => sh(["umount", d]));
      sh(["mount", "-o", "remount,bind,ro", d]);
    }
    expectToken(await t.get("gcr.io"));
    const store = await storeLogin("x.example", "s-value-2", t.env);
    expect(store.exitCode).toBe(1);
    expect(store.stdout.split("\n").length).toBe(2);
    expect(store.stdout).toContain(join(t.configDir, "credentials."));
    expect(store.stdout).toContain("EROFS");
  });

  rootTest("a full disk: get answers uncached, store fails naming the file, no temp files, nothing lost", async () => {
    const t = gcrEnv();
    const mnt = join(t.dir, "full");
    mkdirSync(mnt);
    sh(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", `cch-full-${process.pid}`, mnt]);
    cleanups.push(() => sh(["umount", mnt]));
    const cacheDir = join(mnt, "cache");
    const configDir = join(mnt, "config");
    mkdirSync(cacheDir, { mode: 0o700 });
    mkdirSync(configDir, { mode: 0o700 });
    const saved = JSON.stringify({
      version: 1,
      credentials: { "a.example": { serverURL: "a.example", username: "u", secret: "s-keep" } },
    });
    writeFileSync(join(configDir, "credentials.json"), saved, { mode: 0o600 });
    // Fill it: what is left is less than one block.
    sh(["sh", "-c", `dd if=/dev/zero of=${join(mnt, "filler")} bs=4k 2>/dev/null; true`]);
    const env = { CCH_CACHE_DIR: cacheDir, CCH_CONFIG_DIR: configDir };

    expectToken(await t.get("gcr.io", env));
    expect(readdirSync(cacheDir).filter((n) => n.endsWith(".token.json") || n.endsWith(".tmp"))).toEqual([]);
    const store = await storeLogin("b.example", "s-value-3", { ...t.env, ...env });
    expect(store.exitCode).toBe(1);
    expect(store.stdout).toMatch(
      new RegExp(`^cannot (write|create the lock) ${join(configDir, "credentials.")}\\S*: ENOSPC: no space left on device\\n$`),
    );
    expect(tempFiles(configDir)).toEqual([]);
    expect(tempFiles(cacheDir)).toEqual([]);
    expect(readFileSync(join(configDir, "credentials.json"), "utf8")).toBe(saved);
  });
});

describe("saved logins are never overwritten when they cannot be read", () => {
  rootTest("store and erase refuse a file that does not parse, or has a newer version", async () => {
    const t = gcrEnv();
    mkdirSync(t.configDir, { mode: 0o700 });
    const file = join(t.configDir, "credentials.json");
    for (const text of ["{ truncated", JSON.stringify({ version: 2, credentials: { "a.example": { token: "x" } } })]) {
      writeFileSync(file, text, { mode: 0o600 });
      for (const [action, stdin] of [
        ["store", JSON.stringify({ ServerURL: "b.example", Username: "u", Secret: "s-value-4" })],
        ["erase", "a.example"],
      ] as const) {
        const r = await runHelper("gcr", [action], stdin, t.env);
        expect(r.exitCode).toBe(1);
        expect(r.stdout).toStartWith(`the saved credentials file ${file} `);
        expect(r.stdout.split("\n").length).toBe(2);
        expect(readFileSync(file, "utf8")).toBe(text);
      }
    }
  });
});

describe("logging never changes the answer", () => {
  rootTest("CCH_LOG unwritable, a directory, a symbolic link or another user's file: same answer, same exit code", async () => {
    const t = gcrEnv();
    const target = join(t.dir, "target.log");
    writeFileSync(target, "");
    symlinkSync(target, join(t.dir, "link.log"));
    const theirs = join(t.dir, "theirs.log");
    writeFileSync(theirs, "");
    chownSync(theirs, OTHER, OTHER);
    for (const log of ["/proc/version", t.dir, join(t.dir, "link.log"), theirs, join(t.dir, "missing", "x.log")]) {
      const r = await t.get("gcr.io", { CCH_LOG: log });
      expectToken(r);
      expect(r.stderr).toBe("");
    }
    expect(readFileSync(target, "utf8")).toBe("");
    expect(readFileSync(theirs, "utf8")).toBe("");
    // As the second user, whose log file root created: not appended to either.
    giveToUser(t.dir);
    chownSync(theirs, 0, 0);
    chmodSync(theirs, 0o666);
    expectToken(await runAsUser(t, ["get"], "gcr.io", { CCH_LOG: theirs }));
    expect(readFileSync(theirs, "utf8")).toBe("");
  });
});

describe("limits", () => {
  test("CCH_TIMEOUT beyond 600 s is a clear error, not a timer overflow", async () => {
    const t = gcrEnv();
    const r = await t.get("gcr.io", { CCH_TIMEOUT: "3000000" });
    expect(r).toMatchObject({
      exitCode: 1,
      stdout: 'CCH_TIMEOUT must be a number of seconds between 0 and 600 (got "3000000")\n',
    });
  });

  test("kubelet: errors on stderr only, echoed values cut short, duplicate keys refused", async () => {
    const t = gcrEnv();
    const kubelet = (stdin: string, args = ["get-credentials"]) => runHelper("gcr", args, stdin, t.env);
    const base = { kind: "CredentialProviderRequest", apiVersion: "credentialprovider.kubelet.k8s.io/v1", image: "gcr.io/p/i" };
    for (const args of [["get-credentials"], []]) {
      const big = await kubelet(JSON.stringify({ ...base, pad: "x".repeat(2 << 20) }), args);
      expect(big).toMatchObject({ exitCode: 1, stdout: "" });
      expect(big.stderr).toBe(`docker-credential-gcr: input on stdin is larger than ${1 << 20} bytes\n`);
    }
    const version = await kubelet(JSON.stringify({ ...base, apiVersion: "v".repeat(500_000) }));
    expect(version).toMatchObject({ exitCode: 1, stdout: "" });
    expect(version.stderr.length).toBeLessThan(300);
    const dup = await kubelet(JSON.stringify(base).replace(/}$/, ',"serviceAccountToken":"t","serviceAccountToken":""}'));
    expect(dup).toMatchObject({ exitCode: 1, stdout: "" });
    expect(dup.stderr).toContain('the key "serviceAccountToken" appears twice');
    expect(gcloudRuns(t)).toBe(0);
  });

  test("an endless answer from a token endpoint is cut off, not read whole", async () => {
    let pulled = 0;
    const flavor = { "Metadata-Flavor": "Google" };
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        if (new URL(req.url).pathname === "/") return new Response("computeMetadata/\n", { headers: flavor });
        const chunk = new Uint8Array(64 * 1024).fill(32);
        return new Response(new ReadableStream({ pull: (c) => void (pulled++, c.enqueue(chunk)) }), { headers: flavor });
      },
    });
    cleanups.push(() => void server.stop(true));
    const t = makeGcrEnv({ GCE_METADATA_HOST: `127.0.0.1:${server.port}`, CCH_TIMEOUT: "30" });
    cleanups.push(() => t.cleanup());
    const r = await t.get("gcr.io");
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain(`http://127.0.0.1:${server.port} answered with more than 65536 bytes; not read further`);
    expect(pulled).toBeLessThan(1000);
  });

  test("doctor never prints user information", async () => {
    const t = gcrEnv();
    const r = await runHelper("gcr", ["doctor", "https://user:PW-secret-1@gcr.io"], "", t.env);
    expect(r.exitCode).toBe(1);
    expect(r.stdout + r.stderr).not.toContain("PW-secret-1");
    expect(r.stderr).toContain('"https://…@gcr.io"');
  });
});

describe("endpoint overrides", () => {
  test("--help and README warn that endpoint overrides receive secrets", async () => {
    for (const h of ["ecr-login", "gcr", "acr", "oci"] as const) {
      const help = await runHelper(h, ["--help"], "", {});
      expect(help.stdout).toContain("receive your tokens and signed requests: point them only at hosts you trust");
    }
    const readme = readFileSync(join(import.meta.dir, "../../README.md"), "utf8");
    expect(readme).toContain("**Endpoint overrides receive secrets.**");
  });
});

describe("locks the kernel releases", () => {
  test.skipIf(process.platform !== "linux")(
    "the compiled helper holds a kernel lock: a second get waits while it lives, none once it is killed with -9",
    async () => {
      const t = gcrEnv();
      const lock = cacheFileFor(t).replace(".token.json", ".lock");
      // The fake gcloud hangs (recording its pid) while the file `hang` exists.
      const hang = join(t.dir, "hang");
      const pids = join(t.dir, "gcloud.pids");
      const gcloud = join(t.dir, "bin", "gcloud");
      const answer = readFileSync(gcloud, "utf8");
      writeFileSync(
        gcloud,
        `#!/bin/sh\nif [ -e '${hang}' ]; then echo $$ >> '${pids}'; exec sleep 300; fi\n${answer.replace(/^#!\/bin\/sh\n/, "")}`,
      );
      writeFileSync(hang, "");
      const first = Bun.spawn([join(DIST, "docker-credential-gcr"), "get"], {
        stdin: new Blob(["gcr.io"]),
        env: { ...t.env, CCH_TIMEOUT: "60" },
        stdout: "ignore",
        stderr: "ignore",
      });
      cleanups.push(() => {
        first.kill("SIGKILL");
        for (const pid of existsSync(pids) ? readFileSync(pids, "utf8").trim().split("\n").map(Number) : []) {
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            // gone
          }
        }
      });
      for (let i = 0; i < 500 && !existsSync(pids); i++) await Bun.sleep(20);
      expect(readFileSync(lock, "utf8")).toEndWith(" flock");
      // Refused while the holder lives.
      const second = await t.get("gcr.io", { CCH_TIMEOUT: "1" });
      expect(second).toMatchObject({ exitCode: 1 });
      expect(second.stdout).toContain("timed out waiting for another process to refresh the token");
      // Killed with -9: its lock file stays, the kernel lock goes, and the next get takes over at once.
      first.kill("SIGKILL");
      await first.exited;
      expect(existsSync(lock)).toBe(true);
      rmSync(hang);
      expectToken(await t.get("gcr.io", { CCH_TIMEOUT: "30" }));
      expect(existsSync(lock)).toBe(false);
    },
    30_000,
  );
});

describe("child processes end at the deadline", () => {
  /** A script that records its pid and a background child's, then never ends. */
  function hangingScript(path: string, pids: string): void {
    writeFileSync(path, `#!/bin/sh\nsleep 300 &\necho $! >> '${pids}'\necho $$ >> '${pids}'\nsleep 300\n`);
    chmodSync(path, 0o755);
  }
  const alive = (pid: number): boolean => {
    try {
      // A zombie (killed, not yet reaped by init) counts as ended.
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
    } catch {
      return false;
    }
  };
  async function expectAllEnded(pids: string): Promise<void> {
    const list = readFileSync(pids, "utf8").trim().split("\n").map(Number);
    // Each run records two (the SDK may run it more than once).
    expect(list.length).toBeGreaterThanOrEqual(2);
    // SIGKILL is asynchronous: give the kernel a moment (bounded; no timing asserted).
    for (let i = 0; i < 100 && list.some(alive); i++) await Bun.sleep(20);
    expect(list.filter(alive)).toEqual([]);
  }

  test.skipIf(process.platform !== "linux")("gcloud and what it started are killed", async () => {
    const t = gcrEnv();
    const pids = join(t.dir, "gcloud.pids");
    hangingScript(join(t.dir, "bin", "gcloud"), pids);
    const r = await t.get("gcr.io", { CCH_TIMEOUT: "1" });
    expect(r.exitCode).toBe(1);
    await expectAllEnded(pids);
  });

  test.skipIf(process.platform !== "linux")("an AWS credential_process and what it started are killed", async () => {
    const t = gcrEnv();
    const pids = join(t.dir, "process.pids");
    const script = join(t.dir, "bin", "creds");
    hangingScript(script, pids);
    writeFileSync(join(t.dir, "aws-config"), `[default]\ncredential_process = ${script}\n`);
    writeFileSync(join(t.dir, "aws-credentials"), "");
    const r = await runHelper("ecr-login", ["get"], "123456789012.dkr.ecr.eu-west-1.amazonaws.com", {
      ...t.env,
      AWS_CONFIG_FILE: join(t.dir, "aws-config"),
      AWS_SHARED_CREDENTIALS_FILE: join(t.dir, "aws-credentials"),
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_ENDPOINT_URL_ECR: "http://127.0.0.1:9",
      CCH_TIMEOUT: "1",
    });
    expect(r.exitCode).toBe(1);
    await expectAllEnded(pids);
  });
});
