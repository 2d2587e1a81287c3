// End to end: skopeo pulls a manifest from a real registry on 127.0.0.1 with
// an ECR token. The registry's htpasswd accepts AWS/<the fake's password>;
// the configuration file declares the loopback registry as an alias of an ECR
// host, and docker's credHelpers send it to docker-credential-ecr-login.

import { afterAll, beforeAll, describe, expect } from "bun:test";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { peerTest, requireDist, type TestEnv } from "../support/env.ts";
import { skopeoInspect, startRegistry, type LocalRegistry } from "../support/registry.ts";
import { startFakeAws, type FakeAws } from "./fake-aws.ts";
import { HOST, REGION, makeEcrEnv } from "./support.ts";

const PEERS = ["docker-registry", "htpasswd", "skopeo"];

describe("skopeo through docker-credential-ecr-login", () => {
  let fake: FakeAws;
  let registry: LocalRegistry | null = null;
  let t: TestEnv;
  const password = `ecr-e2e-${randomBytes(12).toString("hex")}`;

  beforeAll(async () => {
    requireDist();
    fake = startFakeAws();
    fake.fixedPassword = password;
    t = makeEcrEnv(fake);
    if (PEERS.every((p) => Bun.which(p))) {
      registry = await startRegistry([{ username: "AWS", password }]);
      await registry.pushImage("team/app", "v1", { username: "AWS", password });
      const helpers = JSON.stringify({ credHelpers: { [registry.host]: "ecr-login" } });
      writeFileSync(join(t.dockerConfig, "config.json"), helpers);
      writeFileSync(t.env.REGISTRY_AUTH_FILE!, helpers);
    }
  });
  afterAll(async () => {
    await registry?.stop();
    await fake?.stop();
    t?.cleanup();
  });

  peerTest(
    PEERS,
    "a loopback registry declared as an alias of an ECR host is pulled from with the ECR token",
    async () => {
      const host = registry!.host;
      // Not declared: the helper does not serve 127.0.0.1, so skopeo goes anonymous and is refused.
      const anonymous = await skopeoInspect(host, "team/app:v1", t.env);
      expect(anonymous.exitCode).not.toBe(0);
      expect(fake.count()).toBe(0);

      t.writeConfig({ registries: { [host]: { alias: HOST } } });
      const inspect = await skopeoInspect(host, "team/app:v1", t.env);
      expect(inspect.stderr).toBe("");
      expect(inspect.exitCode).toBe(0);
      expect(JSON.parse(inspect.stdout).Name).toBe(`${host}/team/app`);
      expect(fake.calls.map((c) => [c.service, c.region])).toEqual([["ecr", REGION]]);

      // The next pull is served from the cache.
      expect((await skopeoInspect(host, "team/app:v1", t.env)).exitCode).toBe(0);
      expect(fake.count()).toBe(1);
    },
    120_000,
  );
});
