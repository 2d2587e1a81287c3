// Real container engines under a temp dir, for end-to-end tests: Debian's
// dockerd (vfs, no iptables, no bridge, its own socket, data and exec roots),
// and podman/buildah/skopeo with their storage, registries and engine
// configuration in temp files, so nothing touches the machine's own engines
// (other test runs may have theirs at the same time).

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand, runHelper, type HelperName, type RunResult } from "./env.ts";

export interface Dockerd {
  /** `unix://…/docker.sock`, for DOCKER_HOST. */
  host: string;
  stop(): Promise<void>;
}

/** Starts dockerd and waits (generously: vfs on a loaded machine) until it answers `docker version`. */
export async function startDockerd(): Promise<Dockerd> {
  // Short: a unix socket path is limited to 107 bytes.
  const dir = mkdtempSync(join(tmpdir(), "cch-dockerd-"));
  const host = `unix://${join(dir, "docker.sock")}`;
  writeFileSync(join(dir, "daemon.json"), "{}\n");
  const proc = Bun.spawn(
    [
      "dockerd",
      "--storage-driver",
      "vfs",
      "--iptables=false",
      "--ip6tables=false",
      "--bridge=none",
      "--host",
      host,
      "--data-root",
      join(dir, "data"),
      "--exec-root",
      join(dir, "exec"),
      "--pidfile",
      join(dir, "docker.pid"),
      "--config-file",
      join(dir, "daemon.json"),
    ],
    {
      stdout: Bun.file(join(dir, "dockerd.out")),
      stderr: Bun.file(join(dir, "dockerd.log")),
      env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin" },
    },
  );
  const stop = async () => {
    proc.kill("SIGTERM");
    const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(30_000).then(() => false)]);
    if (!exited) {
      proc.kill("SIGKILL");
      await proc.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 90_000;
  for (;;) {
    const r = await runCommand(["docker", "version", "--format", "{{.Server.Version}}"], "", {
      PATH: process.env.PATH ?? "",
      DOCKER_HOST: host,
      DOCKER_CONFIG: dir,
    });
    if (r.exitCode === 0) break;
    if (proc.exitCode !== null || Date.now() > deadline) {
      const log = existsSync(join(dir, "dockerd.log")) ? readFileSync(join(dir, "dockerd.log"), "utf8").slice(-2000) : "";
      await stop();
      throw new Error(`dockerd did not start: ${log}`);
    }
    await Bun.sleep(250);
  }
  return { host, stop };
}

/**
 * Environment for podman, buildah and skopeo confined to `dir`: vfs storage,
 * the engine's temp and events files, and registries.conf that marks the
 * given loopback registries insecure (plain http) and searches nowhere.
 */
export function containersEnv(dir: string, insecure: string[]): Record<string, string> {
  mkdirSync(dir, { recursive: true });
  const storage = join(dir, "storage.conf");
  writeFileSync(
    storage,
    ["[storage]", 'driver = "vfs"', `runroot = "${join(dir, "runroot")}"`, `graphroot = "${join(dir, "root")}"`, ""].join("\n"),
  );
  const registries = join(dir, "registries.conf");
  writeFileSync(
    registries,
    [
      "unqualified-search-registries = []",
      ...insecure.flatMap((h) => ["[[registry]]", `location = "${h}"`, "insecure = true"]),
      "",
    ].join("\n"),
  );
  const containers = join(dir, "containers.conf");
  writeFileSync(
    containers,
    [
      "[engine]",
      `tmp_dir = "${join(dir, "libpod-tmp")}"`,
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      `events_logfile_path = "${join(dir, "events.log")}"`,
      "",
    ].join("\n"),
  );
  return { CONTAINERS_STORAGE_CONF: storage, CONTAINERS_REGISTRIES_CONF: registries, CONTAINERS_CONF: containers };
}

/** Fails the test with the command's output when it did not succeed. */
export function expectOk(r: RunResult, what: string): void {
  if (r.exitCode !== 0) throw new Error(`${what} failed (${r.exitCode}): ${r.stdout}${r.stderr}`);
}

/** The registries `list` shows for a helper (saved and cached). */
export async function listedHosts(helper: HelperName, env: Record<string, string>): Promise<string[]> {
  return Object.keys(JSON.parse((await runHelper(helper, ["list"], "", env)).stdout));
}
