// End to end with a real Docker engine (Debian's dockerd: vfs, no iptables,
// no bridge, its own socket and data root under a temp dir) and each of the
// four helpers. Every cloud has its own registry that accepts only that
// cloud's token, reached through `alias`; docker reaches the helpers through
// credHelpers. One dockerd and one registry per cloud serve the whole file.

import { afterAll, beforeAll, describe, expect } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeTestEnv, peerTest, requireDist, runCommand, runHelper, type TestEnv } from "../support/env.ts";
import { AWS_CLI, HELPERS, startCloudRegistries, type CloudRegistries } from "../support/clouds.ts";
import { expectOk, listedHosts, startDockerd, type Dockerd } from "../support/engines.ts";

const PEERS = ["dockerd", "docker", "docker-registry", "htpasswd"];
const HOUR = 3600_000;
const MAX_LIFE: Record<string, number> = { "ecr-login": 12 * HOUR, gcr: HOUR, acr: 3 * HOUR, oci: HOUR };

describe("dockerd × the four helpers", () => {
  let t: TestEnv;
  let world: CloudRegistries | null = null;
  let dockerd: Dockerd | null = null;

  beforeAll(async () => {
    requireDist();
    t = makeTestEnv();
    if (!PEERS.every((p) => Bun.which(p))) return;
    [dockerd, world] = await Promise.all([startDockerd(), startCloudRegistries(t)]);
    t.env.DOCKER_HOST = dockerd.host;
  }, 180_000);
  afterAll(async () => {
    await Promise.all([dockerd?.stop(), world?.stop()]);
    t?.cleanup();
  }, 60_000);

  const docker = (args: string[], stdin = "", env: Record<string, string> = {}) =>
    runCommand(["docker", ...args], stdin, { ...t.env, ...env }, { timeoutMs: 120_000 });

  for (const helper of HELPERS) {
    peerTest(
      helper === "ecr-login" ? [...PEERS, AWS_CLI] : PEERS,
      `${helper}: docker login without -u, the token-login flow, pull, build FROM, logout, and a pull after the saved token expired`,
      async () => {
        const { c, host, image } = await world!.cell(helper);
        const before = c.calls();

        // `docker login` with no -u asks `get` (one cloud call), checks the token with
        // the registry, then stores it: the token get handed out is not saved.
        const login = await docker(["login", host]);
        expectOk(login, "docker login");
        expect(login.stdout).toContain("Login Succeeded");
        expect(c.calls()).toBe(before + 1);
        expect(world!.saved(host)).toBeUndefined();

        expectOk(await docker(["pull", image]), "docker pull");
        expect(c.calls()).toBe(before + 1);

        // logout erases the cached token: the next get goes to the cloud.
        expectOk(await docker(["logout", host]), "docker logout");
        expect(await listedHosts(helper, t.env)).not.toContain(host);

        // The flow the clouds document: a token fetched by hand, logged in under the token user.
        const handToken = await c.handToken(t.env);
        expect(handToken).toBe(c.token);
        const tokenLogin = await docker(["login", "-u", c.user, "--password-stdin", host], handToken);
        expectOk(tokenLogin, "docker login --password-stdin");
        const saved = world!.saved(host)!;
        expect(saved.username).toBe(c.user);
        expect(saved.expiresAt).toBeGreaterThan(Date.now());
        expect(saved.expiresAt).toBeLessThanOrEqual(Date.now() + MAX_LIFE[helper]!);
        // ECR passwords and ACR refresh tokens carry their own (sooner) expiry: it wins.
        if (c.tokenExpiresAt !== undefined) expect(saved.expiresAt).toBe(c.tokenExpiresAt);
        const callsAfterLogin = c.calls();

        // doctor and list --details show the saved token and its expiry; the registry accepts it.
        const until = new Date(saved.expiresAt!).toISOString();
        const doc = await runHelper(helper, ["doctor", host], "", t.env);
        expect(doc.stdout).toContain(`a token saved by docker login (user ${c.user}) is used until ${until}`);
        expect(doc.stdout).toContain(`the token saved by docker login for user ${c.user}, expires ${until}`);
        expect(doc.stdout).toContain("all checks passed");
        const details = JSON.parse((await runHelper(helper, ["list", "--details"], "", t.env)).stdout);
        expect(details[host]).toEqual({ Username: c.user, Source: "saved token", ExpiresAt: until });

        // Pull and build FROM the private image with the saved token: no cloud call.
        expectOk(await docker(["rmi", image]), "docker rmi");
        expectOk(await docker(["pull", image]), "docker pull with the saved token");
        const context = join(t.dir, `build-${helper}`);
        mkdirSync(context, { recursive: true });
        writeFileSync(join(context, "Dockerfile"), `FROM ${image}\nLABEL cch.helper=${helper}\n`);
        const tag = `cch-built-${helper}:latest`;
        const build = await docker(["build", "--pull", "-t", tag, context], "", { DOCKER_BUILDKIT: "0" });
        expectOk(build, "docker build");
        const label = await docker(["image", "inspect", "--format", '{{index .Config.Labels "cch.helper"}}', tag]);
        expect(label.stdout.trim()).toBe(helper);
        expect(c.calls()).toBe(callsAfterLogin);

        // Past its expiry the saved token is not served: the cloud identity takes over.
        world!.expireSaved(host);
        expectOk(await docker(["rmi", image]), "docker rmi");
        expectOk(await docker(["pull", image]), "docker pull after the saved token expired");
        expect(c.calls()).toBe(callsAfterLogin + 1);
        const after = await runHelper(helper, ["doctor", host], "", t.env);
        expect(after.stdout).toContain(`the token saved by docker login (user ${c.user}) expired`);
        expect(after.stdout).toContain("a cached token for user");
        expect(after.stdout).toContain("all checks passed");
        expect(JSON.parse((await runHelper(helper, ["list", "--details"], "", t.env)).stdout)[host].Source).toBe("cached token");

        expectOk(await docker(["logout", host]), "docker logout");
        expect(world!.saved(host)).toBeUndefined();
        expect(await listedHosts(helper, t.env)).not.toContain(host);
      },
      240_000,
    );
  }
});
