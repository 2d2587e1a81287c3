// End to end: skopeo pulls from a real registry (Debian's docker-registry on
// 127.0.0.1) through docker-credential-acr. The registry stands in for an ACR
// data plane: its htpasswd accepts the null GUID and the refresh token that
// the fake ACR front end issues; the configuration file declares the registry
// as an `alias` of an ACR login server whose endpoint is the fake front end.

import { afterAll, beforeAll, describe, expect } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeTestEnv, peerTest, requireDist, runHelper, type TestEnv } from "../support/env.ts";
import { skopeoInspect, startRegistry, type LocalRegistry } from "../support/registry.ts";
import { nowSeconds } from "./support/jwt.ts";
import { LOGIN, servicePrincipalEnv, startWorld, type World } from "./support/setup.ts";

const PEERS = ["docker-registry", "htpasswd", "skopeo"];
const NULL_GUID = "00000000-0000-0000-0000-000000000000";

// bcrypt (htpasswd -B) reads at most 72 bytes of a password, so the fake's
// token is a short unsigned JWT: the registry then checks all of it.
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
const REFRESH_TOKEN = `${b64({ alg: "none" })}.${b64({ exp: nowSeconds() + 3 * 3600 })}.x`;

describe("skopeo through docker-credential-acr", () => {
  let w: World;
  let registry: LocalRegistry | null = null;
  let t: TestEnv;

  beforeAll(async () => {
    requireDist();
    w = startWorld();
    w.acr.fixedRefreshToken = REFRESH_TOKEN;
    t = makeTestEnv(servicePrincipalEnv(w));
    if (PEERS.every((p) => Bun.which(p))) {
      const user = { username: NULL_GUID, password: REFRESH_TOKEN };
      registry = await startRegistry([user]);
      await registry.pushImage("team/app", "v1", user);
      t.writeConfig({ registries: { [registry.host]: { alias: LOGIN, endpoint: w.acr.url } } });
      const helpers = JSON.stringify({ credHelpers: { [registry.host]: "acr" } });
      writeFileSync(join(t.dockerConfig, "config.json"), helpers);
      writeFileSync(t.env.REGISTRY_AUTH_FILE!, helpers);
    }
  });
  afterAll(async () => {
    await registry?.stop();
    await w.stop();
    t.cleanup();
  });

  peerTest(
    PEERS,
    "skopeo inspect succeeds with the ACR refresh token, after one exchange",
    async () => {
      const host = registry!.host;
      const inspect = await skopeoInspect(host, "team/app:v1", t.env);
      expect(inspect.stderr).toBe("");
      expect(inspect.exitCode).toBe(0);
      expect(JSON.parse(inspect.stdout).Name).toBe(`${host}/team/app`);
      expect(w.acr.calls.exchange).toBe(1);
      expect(w.entra.calls.token).toBe(1);

      // A second pull is a cache hit: no new call to Entra ID or the front end.
      expect((await skopeoInspect(host, "team/app:v1", t.env)).exitCode).toBe(0);
      expect(w.acr.calls.exchange).toBe(1);
      expect(w.entra.calls.token).toBe(1);

      const list = await runHelper("acr", ["list"], "unused", t.env);
      expect(JSON.parse(list.stdout)).toEqual({ [host]: NULL_GUID });
    },
    60_000,
  );
});
