// End to end with real clients: `docker login` stores through our helper,
// skopeo reads the credential back through `get`, `docker logout` erases it.

import { afterAll, beforeAll, describe, expect } from "bun:test";
import { writeFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { makeTestEnv, peerTest, requireDist, runCommand, runHelper, type TestEnv } from "../support/env.ts";
import { skopeoInspect, startRegistry, type LocalRegistry } from "../support/registry.ts";

const USER = { username: "alice", password: "e2e-Pa55word-for-login" };
const PEERS = ["docker-registry", "htpasswd", "docker", "skopeo"];

describe("docker login / skopeo / docker logout through docker-credential-ecr-login", () => {
  let registry: LocalRegistry | null = null;
  let t: TestEnv;

  beforeAll(async () => {
    requireDist();
    t = makeTestEnv();
    if (PEERS.every((p) => Bun.which(p))) {
      registry = await startRegistry([USER]);
      await registry.pushImage("team/app", "v1", USER);
      const helpers = JSON.stringify({ credHelpers: { [registry.host]: "ecr-login" } });
      writeFileSync(join(t.dockerConfig, "config.json"), helpers);
      // skopeo/podman write logins to their auth.json, and honour credHelpers there.
      writeFileSync(t.env.REGISTRY_AUTH_FILE!, helpers);
    }
  });
  afterAll(async () => {
    await registry?.stop();
    t.cleanup();
  });

  peerTest(PEERS, "login stores via the helper, skopeo is authenticated, logout erases", async () => {
    const host = registry!.host;
    const before = await skopeoInspect(host, "team/app:v1", t.env);
    expect(before.exitCode).not.toBe(0);

    const login = await runCommand(["docker", "login", host, "-u", USER.username, "--password-stdin"], USER.password, t.env);
    expect(login.stderr + login.stdout).toContain("Login Succeeded");
    // The password went to our store, not into docker's config file.
    const dockerConfig = await Bun.file(join(t.dockerConfig, "config.json")).text();
    expect(dockerConfig).not.toContain(Buffer.from(`${USER.username}:${USER.password}`).toString("base64"));
    const storeFile = join(t.configDir, "credentials.json");
    expect(statSync(storeFile).mode & 0o777).toBe(0o600);
    expect(statSync(t.configDir).mode & 0o777).toBe(0o700);

    const get = await runHelper("ecr-login", ["get"], host, t.env);
    expect(get.exitCode).toBe(0);
    expect(JSON.parse(get.stdout)).toEqual({ ServerURL: host, Username: USER.username, Secret: USER.password });

    const list = await runHelper("ecr-login", ["list"], "unused", t.env);
    expect(Object.values(JSON.parse(list.stdout))).toContain(USER.username);

    const inspect = await skopeoInspect(host, "team/app:v1", t.env);
    expect(inspect.stderr).toBe("");
    expect(inspect.exitCode).toBe(0);
    expect(JSON.parse(inspect.stdout).Name).toBe(`${host}/team/app`);

    const logout = await runCommand(["docker", "logout", host], "", t.env);
    expect(logout.exitCode).toBe(0);
    const after = await runHelper("ecr-login", ["get"], host, t.env);
    expect(after.stdout).toBe("credentials not found in native keychain\n");
    expect(after.exitCode).toBe(1);
    const denied = await skopeoInspect(host, "team/app:v1", t.env);
    expect(denied.exitCode).not.toBe(0);
    expect(denied.stderr.toLowerCase()).toMatch(/unauthorized|authentication required/);
  });

  peerTest(PEERS, "skopeo login and logout go through the helper too", async () => {
    const host = registry!.host;
    const login = await runCommand(
      ["skopeo", "login", "--tls-verify=false", "-u", USER.username, "--password-stdin", host],
      USER.password,
      t.env,
    );
    expect(login.exitCode).toBe(0);
    const get = await runHelper("ecr-login", ["get"], host, t.env);
    expect(JSON.parse(get.stdout).Secret).toBe(USER.password);
    expect((await skopeoInspect(host, "team/app:v1", t.env)).exitCode).toBe(0);
    const logout = await runCommand(["skopeo", "logout", host], "", t.env);
    expect(logout.exitCode).toBe(0);
    expect((await runHelper("ecr-login", ["get"], host, t.env)).exitCode).toBe(1);
  });
});
