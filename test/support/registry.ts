// A real registry (Debian's `docker-registry`, the CNCF distribution) on
// 127.0.0.1 with htpasswd auth, for end-to-end tests with docker and skopeo.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { freePort, runCommand } from "./env.ts";

export interface RegistryUser {
  username: string;
  password: string;
}

export interface LocalRegistry {
  /** `127.0.0.1:<port>`. */
  host: string;
  port: number;
  /**
   * Pushes a tiny OCI image as `repo:tag`: a config blob, and one gzipped
   * tar layer when `files` are given (container engines unpack it); returns
   * its manifest digest.
   */
  pushImage(repo: string, tag: string, user: RegistryUser, files?: Record<string, string>): Promise<string>;
  stop(): Promise<void>;
}

export async function startRegistry(users: RegistryUser[]): Promise<LocalRegistry> {
  const dir = mkdtempSync(join(tmpdir(), "cch-registry-"));
  const lines: string[] = [];
  for (const u of users) {
    // -i: the password comes on stdin, not in argv.
    const r = await runCommand(["htpasswd", "-niB", u.username], u.password, { PATH: process.env.PATH ?? "/usr/bin:/bin" });
    if (r.exitCode !== 0) throw new Error(`htpasswd failed: ${r.stderr}`);
    lines.push(r.stdout.trim());
  }
  writeFileSync(join(dir, "htpasswd"), lines.join("\n") + "\n");
  const port = await freePort();
  writeFileSync(
    join(dir, "config.yml"),
    [
      "version: 0.1",
      "log:",
      "  level: warn",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${join(dir, "data")}`,
      "http:",
      `  addr: 127.0.0.1:${port}`,
      "  secret: test-only-http-secret",
      "auth:",
      "  htpasswd:",
      "    realm: cch-test",
      `    path: ${join(dir, "htpasswd")}`,
      "",
    ].join("\n"),
  );
  const proc = Bun.spawn(["docker-registry", "serve", join(dir, "config.yml")], {
    stdout: Bun.file(join(dir, "registry.log")),
    stderr: Bun.file(join(dir, "registry.err")),
  });
  const host = `127.0.0.1:${port}`;
  const ready = Date.now() + 15_000;
  for (;;) {
    try {
      const res = await fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 401) break;
    } catch {
      // not listening yet
    }
    if (proc.exitCode !== null || Date.now() > ready) {
      proc.kill();
      throw new Error(`docker-registry did not start on ${host}: ${await Bun.file(join(dir, "registry.err")).text()}`);
    }
    await Bun.sleep(50);
  }

  return {
    host,
    port,
    pushImage: (repo, tag, user, files) => pushImage(host, repo, tag, user, files),
    async stop() {
      proc.kill();
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function pushImage(
  host: string,
  repo: string,
  tag: string,
  user: RegistryUser,
  files?: Record<string, string>,
): Promise<string> {
  const auth = "Basic " + Buffer.from(`${user.username}:${user.password}`).toString("base64");
  const sha = (data: string | Uint8Array) => "sha256:" + createHash("sha256").update(data).digest("hex");
  const uploadBlob = async (data: string | Uint8Array, digest: string) => {
    const start = await fetch(`http://${host}/v2/${repo}/blobs/uploads/`, { method: "POST", headers: { authorization: auth } });
    if (start.status !== 202) throw new Error(`blob upload start: HTTP ${start.status}`);
    const location = new URL(start.headers.get("location")!, `http://${host}`);
    location.searchParams.set("digest", digest);
    const put = await fetch(location, {
      method: "PUT",
      headers: { authorization: auth, "content-type": "application/octet-stream" },
      body: typeof data === "string" ? data : new Blob([data as Uint8Array<ArrayBuffer>]),
    });
    if (put.status !== 201) throw new Error(`blob upload: HTTP ${put.status}`);
  };
  const layers: Array<{ mediaType: string; digest: string; size: number }> = [];
  const diffIds: string[] = [];
  if (files) {
    const tar = tarOf(files);
    const gz = gzipSync(tar);
    diffIds.push(sha(tar));
    layers.push({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: sha(gz), size: gz.byteLength });
    await uploadBlob(gz, sha(gz));
  }
  const config = JSON.stringify({
    architecture: "amd64",
    os: "linux",
    config: {},
    rootfs: { type: "layers", diff_ids: diffIds },
  });
  const configDigest = sha(config);
  await uploadBlob(config, configDigest);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: configDigest, size: Buffer.byteLength(config) },
    layers,
  });
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, {
    method: "PUT",
    headers: { authorization: auth, "content-type": "application/vnd.oci.image.manifest.v1+json" },
    body: manifest,
  });
  if (res.status !== 201) throw new Error(`manifest upload: HTTP ${res.status}`);
  return sha(manifest);
}

/** A ustar archive of regular files (mode 0644, owner 0, mtime 0). */
function tarOf(files: Record<string, string>): Uint8Array {
  const blocks: Buffer[] = [];
  for (const [name, text] of Object.entries(files)) {
    const body = Buffer.from(text);
    const header = Buffer.alloc(512);
    const put = (value: string, offset: number, length: number) => header.write(value.slice(0, length), offset, "ascii");
    const octal = (n: number, length: number) => n.toString(8).padStart(length - 1, "0") + "\0";
    put(name, 0, 100);
    put(octal(0o644, 8), 100, 8);
    put(octal(0, 8), 108, 8);
    put(octal(0, 8), 116, 8);
    put(octal(body.length, 12), 124, 12);
    put(octal(0, 12), 136, 12);
    put("        ", 148, 8);
    put("0", 156, 1);
    put("ustar\0", 257, 6);
    put("00", 263, 2);
    let sum = 0;
    for (const b of header) sum += b;
    put(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8);
    blocks.push(header, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/** `skopeo inspect` of `host/repo:tag` over plain http, with credentials only from the helpers. */
export async function skopeoInspect(host: string, image: string, env: Record<string, string>) {
  return runCommand(["skopeo", "inspect", "--tls-verify=false", `docker://${host}/${image}`], "", env, { timeoutMs: 60_000 });
}
