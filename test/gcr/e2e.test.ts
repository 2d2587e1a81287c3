// End to end: a real registry (Debian's docker-registry) on 127.0.0.1 that
// accepts oauth2accesstoken/<the fake metadata server's token>, declared in
// the configuration file as an alias of an Artifact Registry host, and
// skopeo authenticating through docker-credential-gcr from credHelpers that
// `configure-docker` wrote.

import { afterAll, beforeAll, describe, expect } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { peerTest, requireDist, runHelper } from "../support/env.ts";
import { skopeoInspect, startRegistry, type LocalRegistry } from "../support/registry.ts";
import { newToken, startFakeMetadataServer, type FakeMetadataServer } from "./fakes.ts";
import { makeGcrEnv, type GcrTestEnv } from "./support.ts";

const PEERS = ["docker-registry", "htpasswd", "skopeo"];
const TOKEN = newToken("e2e");

describe("skopeo through docker-credential-gcr", () => {
  let registry: LocalRegistry | null = null;
  let md: FakeMetadataServer;
  let t: GcrTestEnv;
  // skopeo reads $DOCKER_CONFIG/config.json only when no auth file is forced on it.
  let clientEnv: Record<string, string>;

  beforeAll(async () => {
    requireDist();
    md = startFakeMetadataServer({ token: TOKEN });
    t = makeGcrEnv({ GCE_METADATA_HOST: md.host });
    const { REGISTRY_AUTH_FILE: _, ...rest } = t.env;
    clientEnv = rest;
    if (PEERS.every((p) => Bun.which(p))) {
      registry = await startRegistry([{ username: "oauth2accesstoken", password: TOKEN }]);
      await registry.pushImage("my-project/team/app", "v1", { username: "oauth2accesstoken", password: TOKEN });
    }
  });
  afterAll(async () => {
    await registry?.stop();
    await md.stop();
    t.cleanup();
  });

  peerTest(PEERS, "a registry aliased to us-docker.pkg.dev is reached with the metadata server's token", async () => {
    const host = registry!.host;
    const anonymous = await skopeoInspect(host, "my-project/team/app:v1", clientEnv);
    expect(anonymous.exitCode).not.toBe(0);

    t.writeConfig({ registries: { [host]: { alias: "us-docker.pkg.dev" } } });
    const configured = await runHelper("gcr", ["configure-docker", `--registries=${host}`], "", clientEnv);
    expect(configured.exitCode).toBe(0);
    expect(existsSync(join(t.dockerConfig, "config.json"))).toBe(true);

    const inspect = await skopeoInspect(host, "my-project/team/app:v1", clientEnv);
    expect(inspect.stderr).toBe("");
    expect(inspect.exitCode).toBe(0);
    expect(JSON.parse(inspect.stdout).Name).toBe(`${host}/my-project/team/app`);
    expect(md.tokenCalls).toBe(1);

    // Again: served from the cache, no second token call.
    expect((await skopeoInspect(host, "my-project/team/app:v1", clientEnv)).exitCode).toBe(0);
    expect(md.tokenCalls).toBe(1);

    const list = await runHelper("gcr", ["list"], "unused", clientEnv);
    expect(JSON.parse(list.stdout)).toEqual({ [host]: "oauth2accesstoken" });
  });

  peerTest(PEERS, "without the alias the same registry gets not-found and skopeo stays anonymous", async () => {
    const host = registry!.host;
    t.writeConfig({});
    const get = await runHelper("gcr", ["get"], host, clientEnv);
    expect(get.stdout).toBe("credentials not found in native keychain\n");
    const inspect = await skopeoInspect(host, "my-project/team/app:v1", clientEnv);
    expect(inspect.exitCode).not.toBe(0);
    expect(inspect.stderr.toLowerCase()).toMatch(/unauthorized|authentication required/);
  });
});
