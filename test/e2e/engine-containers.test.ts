// End to end with podman, buildah and skopeo (Debian's, vfs storage under a
// temp dir) and each of the four helpers: login and logout store and erase
// through the helper, pulls and `buildah from` use what it answers, and
// `skopeo copy` reads through it. Each cloud has its own registry that
// accepts only that cloud's token, reached through `alias`.

import { afterAll, beforeAll, describe, expect } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { makeTestEnv, peerTest, requireDist, runCommand, type TestEnv } from "../support/env.ts";
import { HELPERS, startCloudRegistries, type CloudRegistries } from "../support/clouds.ts";
import { containersEnv, expectOk, listedHosts } from "../support/engines.ts";

const PEERS = ["podman", "buildah", "skopeo", "docker-registry", "htpasswd"];

describe("podman, buildah and skopeo × the four helpers", () => {
  let t: TestEnv;
  let world: CloudRegistries | null = null;

  beforeAll(async () => {
    requireDist();
    t = makeTestEnv();
    if (!PEERS.every((p) => Bun.which(p))) return;
    world = await startCloudRegistries(t);
    Object.assign(
      t.env,
      containersEnv(
        join(t.dir, "containers"),
        [...world.clouds.values()].map((c) => c.host),
      ),
    );
  }, 180_000);
  afterAll(async () => {
    await world?.stop();
    t?.cleanup();
  }, 60_000);

  const run = (cmd: string[], stdin = "") => runCommand(cmd, stdin, t.env, { timeoutMs: 120_000 });

  for (const helper of HELPERS) {
    peerTest(
      PEERS,
      `${helper}: podman and buildah login/logout through the helper, pull, buildah from, skopeo copy`,
      async () => {
        const { c, host, image } = await world!.cell(helper);

        // podman asks `get` before it logs in: the cloud's token, which it then
        // stores. That is the token get hands out, so nothing is saved.
        const before = c.calls();
        expectOk(await run(["podman", "login", "-u", c.user, "--password-stdin", host], c.token), "podman login");
        expect(c.calls()).toBe(before + 1);
        expect(world!.saved(host)).toBeUndefined();
        expectOk(await run(["podman", "pull", "-q", image]), "podman pull with the cloud token");
        const from = await run(["buildah", "from", "--pull-always", image]);
        expectOk(from, "buildah from");
        expectOk(await run(["buildah", "rm", from.stdout.trim()]), "buildah rm");
        expect(c.calls()).toBe(before + 1);
        expectOk(await run(["podman", "logout", host]), "podman logout");
        expect(await listedHosts(helper, t.env)).not.toContain(host);

        // A real password is saved through the helper as a login, and wins over the cloud.
        expectOk(
          await run(["podman", "login", "-u", c.login.username, "--password-stdin", host], c.login.password),
          "podman login",
        );
        expect(world!.saved(host)).toEqual({ serverURL: host, username: c.login.username, secret: c.login.password });
        const calls = c.calls();
        expectOk(await run(["podman", "rmi", image]), "podman rmi");
        expectOk(await run(["podman", "pull", "-q", image]), "podman pull with the saved login");
        const from2 = await run(["buildah", "from", "--pull-always", image]);
        expectOk(from2, "buildah from with the saved login");
        expectOk(await run(["buildah", "rm", from2.stdout.trim()]), "buildah rm");
        expect(c.calls()).toBe(calls);
        expectOk(await run(["podman", "logout", host]), "podman logout");
        expect(world!.saved(host)).toBeUndefined();

        // buildah's own login and logout go through the helper too.
        expectOk(
          await run(
            ["buildah", "login", "--tls-verify=false", "-u", c.login.username, "--password-stdin", host],
            c.login.password,
          ),
          "buildah login",
        );
        expect(world!.saved(host)?.username).toBe(c.login.username);
        expectOk(await run(["buildah", "logout", host]), "buildah logout");
        expect(world!.saved(host)).toBeUndefined();
        expectOk(await run(["podman", "rmi", image]), "podman rmi");

        // skopeo copy to a directory, with the cloud's token.
        const dest = join(t.dir, `copy-${helper}`);
        expectOk(
          await run(["skopeo", "copy", "-q", "--src-tls-verify=false", `docker://${image}`, `dir:${dest}`]),
          "skopeo copy",
        );
        const manifest = JSON.parse(readFileSync(join(dest, "manifest.json"), "utf8")) as { layers: Array<{ digest: string }> };
        expect(manifest.layers).toHaveLength(1);
        expect(existsSync(join(dest, manifest.layers[0]!.digest.replace("sha256:", "")))).toBe(true);
      },
      240_000,
    );
  }
});
