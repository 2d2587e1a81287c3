// The Docker protocol through real processes: the built multi-call binary
// under its four names, and the counting provider through the same CLI.

import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, test } from "bun:test";
import { existsSync, linkSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DIST, ROOT, makeTestEnv, requireDist, runCommand, runHelper, type HelperName, type TestEnv } from "../support/env.ts";
import { startCountingServer, type CountingServer } from "../fixtures/counting-server.ts";

const HELPERS: HelperName[] = ["ecr-login", "gcr", "acr", "oci"];
const NOT_FOUND = "credentials not found in native keychain\n";
const COUNTING = [process.execPath, join(ROOT, "test/fixtures/counting-helper.ts")];

let t: TestEnv;
beforeAll(() => requireDist());
beforeEach(() => {
  t = makeTestEnv();
});
afterEach(() => t.cleanup());

function snapshot(dir: string): string {
  if (!existsSync(dir)) return "(none)";
  return readdirSync(dir, { recursive: true })
    .map(String)
    .sort()
    .map((f) => {
      const p = join(dir, f);
      return statSync(p).isFile() ? `${f}:${readFileSync(p, "utf8")}` : f;
    })
    .join("\n");
}

describe("the four names of one binary", () => {
  test("dist holds one executable hardlinked under the four names", () => {
    const inodes = new Set(HELPERS.map((h) => statSync(join(DIST, `docker-credential-${h}`)).ino));
    expect(inodes.size).toBe(1);
  });

  test.each(HELPERS)("%s: a host no cloud serves is not found, exactly", async (h) => {
    const r = await runHelper(h, ["get"], "nothing.example.com\n", t.env);
    expect(r.stdout).toBe(NOT_FOUND);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(1);
  });

  test.each(HELPERS)("%s: version, --version, --help", async (h) => {
    const v = await runHelper(h, ["version"], "", t.env);
    expect(v.stdout).toMatch(
      new RegExp(
        `^docker-credential-${h} \\(cloud-credential-helpers\\) \\d+\\.\\d+\\.\\d+ \\(commit [0-9a-f]{12}, bun \\d+\\.\\d+\\.\\d+\\)\\n$`,
      ),
    );
    expect((await runHelper(h, ["--version"], "", t.env)).exitCode).toBe(0);
    const help = await runHelper(h, ["--help"], "", t.env);
    expect(help.exitCode).toBe(0);
    for (const action of ["get", "store", "erase", "list", "version"])
      expect(help.stdout).toContain(`docker-credential-${h} ${action}`);
  });

  test("unknown action and missing action are errors on stdout, exit 1", async () => {
    const u = await runHelper("gcr", ["frobnicate"], "", t.env);
    expect(u).toEqual({ stdout: "Unknown credential action `frobnicate`\n", stderr: "", exitCode: 1 });
    const none = await runHelper("gcr", [], "", t.env);
    expect(none.stdout).toBe("Usage: docker-credential-gcr <store|get|erase|list|version>\n");
    expect(none.exitCode).toBe(1);
    const two = await runHelper("gcr", ["get", "extra"], "gcr.io", t.env);
    expect(two.exitCode).toBe(1);
  });

  test("a .env or bunfig.toml in the working directory (a docker build context) changes nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cch-cwd-"));
    try {
      writeFileSync(
        join(dir, ".env"),
        `CCH_DEBUG=true\nCCH_CACHE_DIR=${join(dir, "stolen")}\nAWS_ENDPOINT_URL_ECR=http://127.0.0.1:9\n`,
      );
      writeFileSync(join(dir, "bunfig.toml"), 'preload = ["./evil.ts"]\n');
      writeFileSync(join(dir, "evil.ts"), 'process.stdout.write("EVIL");\n');
      await runHelper("gcr", ["store"], '{"ServerURL":"r.example.com","Username":"u","Secret":"s"}', t.env);
      const r = await runCommand([join(DIST, "docker-credential-gcr"), "get"], "r.example.com", t.env, { cwd: dir });
      expect(r).toEqual({ stdout: '{"ServerURL":"r.example.com","Username":"u","Secret":"s"}\n', stderr: "", exitCode: 0 });
      expect(existsSync(join(dir, "stolen"))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("started under any other name, it says which names it answers to", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cch-name-"));
    try {
      linkSync(join(DIST, "docker-credential-gcr"), join(dir, "mystery"));
      const r = await runCommand([join(dir, "mystery"), "get"], "gcr.io", t.env);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain("docker-credential-ecr-login");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("store, get, erase, list", () => {
  test("store accepts every server URL form; get answers for each form and echoes the URL asked", async () => {
    const s = await runHelper(
      "acr",
      ["store"],
      '{"ServerURL":"https://Reg.Example.com:5000/v2/","Username":"bob","Secret":"pw-123456"}',
      t.env,
    );
    expect(s).toEqual({ stdout: "", stderr: "", exitCode: 0 });
    for (const form of ["reg.example.com:5000", "https://reg.example.com:5000", "http://REG.example.com:5000/v1/"]) {
      const g = await runHelper("acr", ["get"], form + "\n", t.env);
      expect(JSON.parse(g.stdout)).toEqual({ ServerURL: form, Username: "bob", Secret: "pw-123456" });
    }
    // list keys are what store was given; docker later calls get with them.
    const l = await runHelper("acr", ["list"], "unused", t.env);
    expect(JSON.parse(l.stdout)).toEqual({ "https://Reg.Example.com:5000/v2/": "bob" });
    const e = await runHelper("acr", ["erase"], "https://reg.example.com:5000", t.env);
    expect(e.exitCode).toBe(0);
    expect((await runHelper("acr", ["erase"], "reg.example.com:5000", t.env)).stdout).toBe(NOT_FOUND);
    expect((await runHelper("acr", ["list"], "", t.env)).stdout).toBe("{}\n");
  });

  test("Docker Hub forms share one key", async () => {
    await runHelper("gcr", ["store"], '{"ServerURL":"https://index.docker.io/v1/","Username":"hub","Secret":"x"}', t.env);
    const g = await runHelper("gcr", ["get"], "docker.io", t.env);
    expect(JSON.parse(g.stdout).Username).toBe("hub");
  });

  test("bad input: clear error, exit 1, nothing on disk changed", async () => {
    await runHelper("oci", ["store"], '{"ServerURL":"keep.example.com","Username":"k","Secret":"keep"}', t.env);
    const before = snapshot(t.configDir);
    const cases: Array<[string, string, RegExp]> = [
      ["get", "", /^no credentials server URL\n$/],
      ["erase", "  \n", /^no credentials server URL\n$/],
      ["store", "", /^invalid credentials on stdin/],
      ["store", "garbage", /^invalid credentials on stdin: not valid JSON\n$/],
      ["store", "\u0000\u00ff\u0001", /^invalid credentials on stdin/],
      ["store", '{"Username":"u","Secret":"s"}', /^no credentials server URL\n$/],
      ["store", '{"ServerURL":"h.example.com","Secret":"s"}', /^no credentials username\n$/],
      ["store", '{"ServerURL":"https://u@h.example.com","Username":"u","Secret":"s"}', /^invalid server URL: user information/],
      ["store", "x".repeat(3 << 20), /^input on stdin is larger than/],
      ["get", "y".repeat(3 << 20), /^input on stdin is larger than/],
      ["get", "https://gcr.io@evil.com", /^credentials not found in native keychain\n$/],
    ];
    for (const [action, stdin, expected] of cases) {
      const r = await runHelper("oci", [action], stdin, t.env);
      expect({ action, out: r.stdout.slice(0, 200), code: r.exitCode }).toEqual({
        action,
        out: expect.stringMatching(expected),
        code: 1,
      });
      expect(r.stdout.length).toBeLessThan(300);
    }
    expect(snapshot(t.configDir)).toBe(before);
  });

  test("a corrupt store file: get answers not found and list nothing; store refuses and changes nothing", async () => {
    const { mkdirSync } = await import("node:fs");
    mkdirSync(t.configDir, { recursive: true });
    const file = join(t.configDir, "credentials.json");
    writeFileSync(file, "\u0000corrupt{{");
    expect((await runHelper("gcr", ["get"], "x.example.com", t.env)).stdout).toBe(NOT_FOUND);
    expect((await runHelper("gcr", ["list"], "", t.env)).stdout).toBe("{}\n");
    const store = await runHelper("gcr", ["store"], '{"ServerURL":"x.example.com","Username":"u","Secret":"s"}', t.env);
    expect(store).toEqual({
      stdout: `the saved credentials file ${file} is not valid JSON (fix it, or move it aside to start afresh); nothing was changed\n`,
      stderr: "",
      exitCode: 1,
    });
    expect(readFileSync(file, "utf8")).toBe("\u0000corrupt{{");
  });

  test("AWS_ECR_IGNORE_CREDS_STORAGE=true: ecr-login store and erase succeed without saving", async () => {
    const env = { ...t.env, AWS_ECR_IGNORE_CREDS_STORAGE: "true" };
    const s = await runHelper("ecr-login", ["store"], '{"ServerURL":"r.example.com","Username":"u","Secret":"s"}', env);
    expect(s.exitCode).toBe(0);
    expect(existsSync(join(t.configDir, "credentials.json"))).toBe(false);
    expect((await runHelper("ecr-login", ["erase"], "r.example.com", env)).exitCode).toBe(0);
    // Without it, ecr-login stores like the others.
    expect(
      (await runHelper("ecr-login", ["store"], '{"ServerURL":"r.example.com","Username":"u","Secret":"s"}', t.env)).exitCode,
    ).toBe(0);
    expect(existsSync(join(t.configDir, "credentials.json"))).toBe(true);
  });

  test("a bad configuration file is a clear error for get, naming the file", async () => {
    writeFileSync(t.configFile, "{ nope");
    const r = await runHelper("gcr", ["get"], "gcr.io", t.env);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain(`configuration file ${t.configFile}: not valid JSON`);
  });
});

describe("the token cache across processes (counting provider)", () => {
  let server: CountingServer;
  beforeAll(() => {
    server = startCountingServer();
  });
  afterAll(() => server.stop());
  beforeEach(() => {
    server.calls = 0;
    server.mode = "ok";
    server.delayMs = 0;
  });
  const env = () => ({ ...t.env, COUNTING_URL: server.url });

  test("16 processes racing on a cold cache make exactly one cloud call and all answer the same token", async () => {
    server.delayMs = 300; // a slow cloud widens the race
    const results = await Promise.all(
      Array.from({ length: 16 }, () => runCommand([...COUNTING, "get"], "race.counting.test\n", env())),
    );
    expect(server.calls).toBe(1);
    const secrets = new Set(
      results.map((r) => (r.exitCode === 0 ? JSON.parse(r.stdout).Secret : `failed: ${r.stdout}${r.stderr}`)),
    );
    expect(secrets.size).toBe(1);
    expect([...secrets][0]).toStartWith("counting-token-");
    const files = readdirSync(t.cacheDir);
    expect(files.filter((f) => f.endsWith(".token.json")).length).toBe(1);
    expect(files.filter((f) => f.endsWith(".lock") || f.endsWith(".tmp")).length).toBe(0);
    for (const f of files) expect(statSync(join(t.cacheDir, f)).mode & 0o777).toBe(0o600);
  });

  test("list shows cached registries from local state only; erase drops the cached token", async () => {
    await runCommand([...COUNTING, "get"], "a.counting.test", env());
    server.stop(); // no network from here on
    const l = await runCommand([...COUNTING, "list"], "unused", { ...t.env, COUNTING_URL: "http://127.0.0.1:9" });
    expect(JSON.parse(l.stdout)).toEqual({ "a.counting.test": "counter" });
    const e = await runCommand([...COUNTING, "erase"], "https://a.counting.test", env());
    expect(e.exitCode).toBe(0);
    expect((await runCommand([...COUNTING, "list"], "", env())).stdout).toBe("{}\n");
    server = startCountingServer();
  });

  test("a corrupt cache file is discarded and refetched", async () => {
    await runCommand([...COUNTING, "get"], "c.counting.test", env());
    const [file] = readdirSync(t.cacheDir).filter((f) => f.endsWith(".token.json"));
    writeFileSync(join(t.cacheDir, file!), "{{{");
    const r = await runCommand([...COUNTING, "get"], "c.counting.test", env());
    expect(r.exitCode).toBe(0);
    expect(server.calls).toBe(2);
  });

  test("CCH_DISABLE_CACHE: every get asks the cloud, nothing is written", async () => {
    const noCache = { ...env(), CCH_DISABLE_CACHE: "true" };
    await runCommand([...COUNTING, "get"], "d.counting.test", noCache);
    await runCommand([...COUNTING, "get"], "d.counting.test", noCache);
    expect(server.calls).toBe(2);
    expect(existsSync(t.cacheDir)).toBe(false);
  });

  test("a cloud failure is a one-line error on stdout, exit 1, and no secret on stderr", async () => {
    server.mode = "fail";
    const r = await runCommand([...COUNTING, "get"], "e.counting.test", env());
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe("Counting test registry: counting server answered HTTP 500\n");
    expect(r.stderr).toBe("");
  });

  test("a hanging cloud ends at CCH_TIMEOUT", async () => {
    server.mode = "hang";
    const r = await runCommand([...COUNTING, "get"], "f.counting.test", { ...env(), CCH_TIMEOUT: "1" }, { timeoutMs: 20_000 });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/deadline|timed out|abort/i);
  });
});
