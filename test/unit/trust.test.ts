// Files we trust, locks that cannot outlive their process, capped bodies and
// strict requests: the in-process half of the "hostile disk" checks (the
// helpers run as a second user, on full and read-only disks, in
// test/e2e/hostile-disk.test.ts).

import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import {
  chmodSync,
  chownSync,
  closeSync,
  openSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { directoryProblem, readTrusted, untrustedReason } from "../../src/trust.ts";
import { ensurePrivateDir, writeFileAtomic } from "../../src/fsutil.ts";
import { LockTimeoutError, LockUnavailableError, processStartTime, withLock } from "../../src/lock.ts";
import { kernelLock, libcNames } from "../../src/kernel-lock.ts";
import { TokenCache } from "../../src/cache.ts";
import { CredentialStore } from "../../src/store.ts";
import { loadConfig } from "../../src/paths.ts";
import { makeLogger, timeoutSeconds } from "../../src/context.ts";
import { EMPTY_CONFIG } from "../../src/config.ts";
import { BodyTooLargeError, readCapped } from "../../src/body.ts";
import { firstDuplicateKey } from "../../src/json-keys.ts";
import { parseKubeletRequest } from "../../src/protocol/kubelet.ts";
import { withoutUserinfo } from "../../src/commands/doctor.ts";

const OTHER_UID = 12346;
/** A gid no account or group entry names: a group that is surely not the owner's own. */
const SHARED_GID = 12347;
const isRoot = process.getuid?.() === 0;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "cch-trust-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("ownership and mode checks", () => {
  test("our own 0600 file is trusted; one writable by others is not", () => {
    const f = join(dir, "f");
    writeFileSync(f, "x", { mode: 0o600 });
    expect(readTrusted(f)).toEqual({ text: "x" });
    chmodSync(f, 0o602);
    expect(readTrusted(f)).toEqual({ untrusted: "is writable by others (mode 0602)" });
    expect(readTrusted(join(dir, "missing"))).toEqual({ missing: true });
  });

  test.skipIf(!isRoot)("group-writable: trusted only when the group is the owner's own (as ssh allows)", () => {
    const f = join(dir, "f");
    writeFileSync(f, "x", { mode: 0o600 });
    chmodSync(f, 0o660);
    // root:root, and no other account has group root: a private group.
    expect(readTrusted(f)).toEqual({ text: "x" });
    chownSync(f, 0, SHARED_GID);
    expect(readTrusted(f)).toEqual({ untrusted: "is writable by group (mode 0660)" });
  });

  test.skipIf(!isRoot)("a file owned by another user is not trusted (root may own it)", () => {
    const f = join(dir, "f");
    writeFileSync(f, "x", { mode: 0o600 });
    chownSync(f, OTHER_UID, OTHER_UID);
    expect(readTrusted(f)).toEqual({ untrusted: `is owned by uid ${OTHER_UID}, not by you (uid 0) or root` });
  });

  test("a symbolic link is never followed, except for the configuration file", () => {
    const target = join(dir, "target.json");
    writeFileSync(target, "{}", { mode: 0o600 });
    symlinkSync(target, join(dir, "link.json"));
    expect(readTrusted(join(dir, "link.json"))).toEqual({ untrusted: "is a symbolic link" });
    expect(readTrusted(join(dir, "link.json"), { follow: true })).toEqual({ text: "{}" });
    expect(loadConfig(join(dir, "link.json")).path).toBe(join(dir, "link.json"));
  });

  test("a configuration file others can write is an error naming it", () => {
    const f = join(dir, "config.json");
    writeFileSync(f, '{"timeoutSeconds": 5}');
    chmodSync(f, 0o666);
    expect(() => loadConfig(f)).toThrow(`configuration file ${f} is writable by others (mode 0666); not used`);
    chmodSync(f, 0o644);
    expect(loadConfig(f).timeoutSeconds).toBe(5);
  });

  test("a directory is judged, never changed: an existing one keeps its mode", () => {
    const open = join(dir, "open");
    mkdirSync(open);
    chmodSync(open, 0o755);
    ensurePrivateDir(open);
    expect(statSync(open).mode & 0o777).toBe(0o755);
    const shared = join(dir, "shared");
    mkdirSync(shared);
    chmodSync(shared, 0o1777);
    expect(directoryProblem(shared)).toBe("is writable by others (mode 1777)");
    expect(() => ensurePrivateDir(shared)).toThrow(`${shared} is writable by others (mode 1777); not used`);
    expect(statSync(shared).mode & 0o7777).toBe(0o1777);
    // Through a symbolic link: the directory it names is judged, and left alone.
    symlinkSync(shared, join(dir, "via-link"));
    expect(() => ensurePrivateDir(join(dir, "via-link"))).toThrow("is writable by others");
    expect(statSync(shared).mode & 0o7777).toBe(0o1777);
    // A new one is ours, 0700, parents included.
    ensurePrivateDir(join(dir, "new", "deeper"));
    expect(statSync(join(dir, "new")).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, "new", "deeper")).mode & 0o777).toBe(0o700);
  });

  test("a cache in a directory others can write is not used; a planted entry is not served", () => {
    const shared = join(dir, "shared");
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    const lines: string[] = [];
    expect(TokenCache.open(shared, (m) => lines.push(m))).toBeNull();
    expect(lines).toEqual([`the token cache ${shared} is writable by others (mode 0777); not using it`]);

    const cache = TokenCache.open(join(dir, "cache"), (m) => lines.push(m))!;
    const entry = { key: "k", provider: "p", host: "h", username: "u", secret: "planted", issuedAt: 1, expiresAt: 2 };
    mkdirSync(cache.dir, { mode: 0o700 });
    writeFileSync(cache.fileFor("k"), JSON.stringify({ v: 1, ...entry }), { mode: 0o666 });
    chmodSync(cache.fileFor("k"), 0o666);
    expect(cache.read("k")).toBeNull();
    expect(lines.at(-1)).toContain("is writable by others (mode 0666); ignoring it");
  });

  test("untrustedReason: not a file, not a directory", () => {
    expect(untrustedReason(statSync(dir), "file")).toBe("is not a file");
    writeFileSync(join(dir, "f"), "");
    expect(untrustedReason(statSync(join(dir, "f")), "directory")).toBe("is not a directory");
  });
});

describe("atomic writes on a bad disk", () => {
  test("an error names the file and leaves no temp file", () => {
    mkdirSync(join(dir, "d"), { mode: 0o700 });
    // A directory where the file should be: rename fails after the temp file was written.
    mkdirSync(join(dir, "d", "target"));
    writeFileSync(join(dir, "d", "target", "x"), "");
    expect(() => writeFileAtomic(join(dir, "d", "target"), "secret")).toThrow(`cannot write ${join(dir, "d", "target")}: EISDIR`);
    expect(readdirSync(join(dir, "d"))).toEqual(["target"]);
  });
});

describe("locks", () => {
  test("libc names: glibc, musl, macOS", () => {
    expect(libcNames("linux", "x64")).toEqual(["libc.so.6", "libc.musl-x86_64.so.1", "/lib/ld-musl-x86_64.so.1"]);
    expect(libcNames("linux", "arm64")[1]).toBe("libc.musl-aarch64.so.1");
    expect(libcNames("darwin", "arm64")[0]).toBe("libc.dylib");
  });

  test("the start time of a live process is known on Linux", () => {
    if (process.platform !== "linux") return;
    expect(processStartTime(process.pid)).toMatch(/^\d+$/);
    expect(processStartTime(process.pid)).toBe(processStartTime(process.pid));
  });

  test("a lock whose pid now belongs to a process started at another time is broken at once", async () => {
    const path = join(dir, "reused.lock");
    // Our own pid is alive; the recorded start time is not ours: pid reuse.
    writeFileSync(path, `${process.pid} ${Date.now()} abcd 1`);
    expect(await withLock(path, { deadline: Date.now() + 2000, startTime: () => "2" }, async () => "ran")).toBe("ran");
    // With the matching start time it is a live lock.
    writeFileSync(path, `${process.pid} ${Date.now()} abcd 2`);
    await expect(
      withLock(path, { deadline: Date.now() + 50, startTime: () => "2", waitingFor: "the test" }, async () => "ran"),
    ).rejects.toThrow(new LockTimeoutError("timed out waiting for the test"));
  });

  test.skipIf(process.platform === "win32")(
    "the kernel lock loads here, and refuses a second holder until the first closes",
    async () => {
      const kernel = await kernelLock();
      expect(kernel).not.toBeNull();
      const f = join(dir, "k.lock");
      writeFileSync(f, "");
      const a = openSync(f, "r");
      const b = openSync(f, "r");
      expect(kernel!.tryLock(a)).toBe(true);
      expect(kernel!.tryLock(b)).toBe(false);
      closeSync(a);
      expect(kernel!.tryLock(b)).toBe(true);
      closeSync(b);
    },
  );

  test("with a kernel lock, the kernel decides: a lock file nobody holds is dead whatever pid it names", async () => {
    const path = join(dir, "k.lock");
    const start = processStartTime(process.pid) ?? "-";
    // Our own live pid and start time, but no process holds the kernel lock.
    writeFileSync(path, `${process.pid} ${Date.now()} abcd ${start} flock`);
    expect(await withLock(path, { deadline: Date.now() + 2000 }, async () => "ran")).toBe("ran");
    // Without a kernel lock, the same file is judged by pid and start time: alive.
    writeFileSync(path, `${process.pid} ${Date.now()} abcd ${start} flock`);
    await expect(withLock(path, { deadline: Date.now() + 50, kernel: null }, async () => "ran")).rejects.toBeInstanceOf(
      LockTimeoutError,
    );
  });

  test("a lock held by another process refuses us until that process is killed with -9", async () => {
    const path = join(dir, "held.lock");
    const holder = Bun.spawn(
      [
        process.execPath,
        "-e",
        `const { withLock } = await import(${JSON.stringify(join(import.meta.dir, "../../src/lock.ts"))});
         await withLock(${JSON.stringify(path)}, { deadline: Date.now() + 60_000 }, async () => {
           console.log("held");
           await new Promise(() => {});
         });`,
      ],
      { stdout: "pipe", stderr: "inherit" },
    );
    try {
      const reader = holder.stdout.getReader();
      expect(new TextDecoder().decode((await reader.read()).value)).toBe("held\n");
      expect(readFileSync(path, "utf8")).toEndWith(" flock");
      await expect(withLock(path, { deadline: Date.now() + 200 }, async () => "ran")).rejects.toBeInstanceOf(LockTimeoutError);
    } finally {
      holder.kill("SIGKILL");
    }
    await holder.exited;
    expect(await withLock(path, { deadline: Date.now() + 2000 }, async () => "ran")).toBe("ran");
  });

  test("a login that waits too long for another says so, naming the file; nothing is lost", async () => {
    const store = new CredentialStore(dir, () => {}, 100);
    await store.put("a.example", { serverURL: "a.example", username: "u", secret: "s-a" });
    let release = () => {};
    const holding = withLock(
      join(dir, "credentials.lock"),
      { deadline: Date.now() + 10_000 },
      () => new Promise<void>((r) => (release = r)),
    );
    await Bun.sleep(20);
    await expect(store.put("b.example", { serverURL: "b.example", username: "u", secret: "s-b" })).rejects.toThrow(
      new LockTimeoutError(`timed out waiting for another process to update ${store.path}`),
    );
    release();
    await holding;
    expect(store.list().map(([k]) => k)).toEqual(["a.example"]);
  });

  test("a lock dated in the future is stale, even with pid 1", async () => {
    const path = join(dir, "future.lock");
    writeFileSync(path, `1 ${Date.now() + 3600_000} abcd`);
    expect(await withLock(path, { deadline: Date.now() + 2000 }, async () => "ran")).toBe("ran");
  });

  test("a lock that cannot be created or trusted: an error, or the work runs without it", async () => {
    const path = join(dir, "planted.lock");
    symlinkSync(join(dir, "elsewhere"), path);
    await expect(withLock(path, { deadline: Date.now() + 2000 }, async () => "ran")).rejects.toBeInstanceOf(LockUnavailableError);
    const reasons: string[] = [];
    expect(await withLock(path, { deadline: Date.now() + 2000, withoutLock: (r) => reasons.push(r) }, async () => "ran")).toBe(
      "ran",
    );
    expect(reasons).toEqual([`the lock ${path} is a symbolic link; not used`]);
    expect(existsSync(join(dir, "elsewhere"))).toBe(false);
  });
});

describe("logging never changes the answer", () => {
  test("an unwritable, linked or foreign CCH_LOG is dropped; lines are still redacted to a good one", () => {
    const target = join(dir, "target.log");
    writeFileSync(target, "");
    symlinkSync(target, join(dir, "link.log"));
    for (const path of [join(dir, "no", "such", "dir.log"), dir, join(dir, "link.log")]) {
      const log = makeLogger({ CCH_LOG: path }, "t", false);
      expect(() => log.debug("hello")).not.toThrow();
    }
    expect(readFileSync(target, "utf8")).toBe("");
    const good = join(dir, "good.log");
    const log = makeLogger({ CCH_LOG: good }, "t", false);
    log.secret("s3cret-value");
    log.debug("token s3cret-value");
    expect(readFileSync(good, "utf8")).toContain("token [redacted]");
    expect(statSync(good).mode & 0o777).toBe(0o600);
  });

  test.skipIf(!isRoot)("a log file another user created is not appended to", () => {
    const theirs = join(dir, "theirs.log");
    writeFileSync(theirs, "");
    chownSync(theirs, OTHER_UID, OTHER_UID);
    makeLogger({ CCH_LOG: theirs }, "t", false).debug("hello");
    expect(readFileSync(theirs, "utf8")).toBe("");
  });
});

describe("limits", () => {
  test("CCH_TIMEOUT is checked like timeoutSeconds", () => {
    expect(timeoutSeconds({ CCH_TIMEOUT: "600" }, EMPTY_CONFIG)).toBe(600);
    expect(timeoutSeconds({ CCH_TIMEOUT: "" }, EMPTY_CONFIG)).toBe(10);
    for (const bad of ["3000000", "0", "-1", "ten", "Infinity"]) {
      expect(() => timeoutSeconds({ CCH_TIMEOUT: bad }, EMPTY_CONFIG)).toThrow(
        `CCH_TIMEOUT must be a number of seconds between 0 and 600 (got "${bad}")`,
      );
    }
  });

  test("a body is read while counting: an endless answer is cancelled past the limit", async () => {
    let pulled = 0;
    let cancelled = false;
    const endless = () =>
      new Response(
        new ReadableStream({
          pull(c) {
            pulled++;
            c.enqueue(new Uint8Array(64 * 1024).fill(97));
          },
          cancel() {
            cancelled = true;
          },
        }),
      );
    await expect(readCapped(endless(), 1 << 20)).rejects.toBeInstanceOf(BodyTooLargeError);
    expect(cancelled).toBe(true);
    expect(pulled).toBeLessThan(40);
    cancelled = false;
    expect(await readCapped(endless(), 1000, { truncate: true })).toBe("a".repeat(1000));
    expect(cancelled).toBe(true);
    // A declared length over the limit is refused before reading.
    const declared = new Response("x".repeat(10), { headers: { "content-length": "10" } });
    await expect(readCapped(declared, 5)).rejects.toThrow("answered with more than 5 bytes; not read further");
    expect(await readCapped(new Response("small"))).toBe("small");
  });

  test("duplicate keys in a kubelet request are refused; echoed values are cut short", () => {
    expect(firstDuplicateKey('{"a":1,"b":{"a":2},"c":[{"a":1},{"a":2}]}')).toBeNull();
    expect(firstDuplicateKey('{"a":"x\\"y","b":1,"a":2}')).toBe("a");
    expect(firstDuplicateKey('{"o":{"k":1,"\\u006b":2}}')).toBe("k");
    const base = '{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"gcr.io/p/i"';
    const dup = parseKubeletRequest(`${base},"serviceAccountToken":"t","serviceAccountToken":""}`);
    expect(dup).toEqual({
      ok: false,
      message: 'invalid CredentialProviderRequest on stdin: the key "serviceAccountToken" appears twice',
    });
    const long = parseKubeletRequest(JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: "v".repeat(100_000) }));
    expect(long.ok).toBe(false);
    if (!long.ok) expect(long.message.length).toBeLessThan(300);
  });

  test("doctor's echo of its argument never carries user information", () => {
    expect(withoutUserinfo("https://user:PW@host/x")).toBe("https://…@host/x");
    expect(withoutUserinfo("user:PW@host")).toBe("…@host");
    expect(withoutUserinfo("host/a@b")).toBe("host/a@b");
  });
});
