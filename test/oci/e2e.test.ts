// End to end: skopeo reads credentials through docker-credential-oci from a
// real registry (Debian's docker-registry) on 127.0.0.1. The configuration
// file declares 127.0.0.1:PORT an alias of iad.ocir.io, with the token
// endpoint pointed at the fake OCIR, which verifies the API key's signature
// and hands out the one token the registry's htpasswd accepts for BEARER_TOKEN.

import { afterAll, beforeAll, describe, expect } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { peerTest, requireDist, runHelper } from "../support/env.ts";
import { skopeoInspect, startRegistry, type LocalRegistry } from "../support/registry.ts";
import { setupOci, type OciTest } from "./setup.ts";

const PEERS = ["docker-registry", "htpasswd", "skopeo"];
const TOKEN = `ocir-e2e-${crypto.randomUUID()}`;

describe("skopeo through docker-credential-oci", () => {
  let registry: LocalRegistry | null = null;
  let o: OciTest;

  beforeAll(async () => {
    requireDist();
    o = setupOci();
    o.ocir.fixedToken = TOKEN;
    if (PEERS.every((p) => Bun.which(p))) {
      const user = { username: "BEARER_TOKEN", password: TOKEN };
      registry = await startRegistry([user]);
      await registry.pushImage("team/app", "v1", user);
      const helpers = JSON.stringify({ credHelpers: { [registry.host]: "oci" } });
      writeFileSync(join(o.t.dockerConfig, "config.json"), helpers);
      writeFileSync(o.t.env.REGISTRY_AUTH_FILE!, helpers);
    }
  }, 60_000);
  afterAll(async () => {
    await registry?.stop();
    await o.cleanup();
  });

  peerTest(
    PEERS,
    "an alias of iad.ocir.io gets a signed OCIR token and skopeo inspect succeeds",
    async () => {
      const host = registry!.host;
      // Without the alias 127.0.0.1 is no OCIR host: not found, so skopeo goes anonymous and is refused.
      o.t.writeConfig({ registries: {} });
      expect((await runHelper("oci", ["get"], host, o.t.env)).stdout).toBe("credentials not found in native keychain\n");
      const denied = await skopeoInspect(host, "team/app:v1", o.t.env);
      expect(denied.exitCode).not.toBe(0);
      expect(o.ocir.calls).toEqual([]);

      o.t.writeConfig({ registries: { [host]: { alias: "iad.ocir.io", tokenEndpoint: o.ocir.url } } });
      const inspect = await skopeoInspect(host, "team/app:v1", o.t.env);
      expect(inspect.stderr).toBe("");
      expect(inspect.exitCode).toBe(0);
      expect(JSON.parse(inspect.stdout).Name).toBe(`${host}/team/app`);
      expect(o.ocir.calls).toEqual([{ keyId: o.key.keyId, verified: true, reason: "" }]);

      // Later pulls are served from the cache: no new token call.
      expect((await skopeoInspect(host, "team/app:v1", o.t.env)).exitCode).toBe(0);
      expect(o.ocir.calls).toHaveLength(1);
      const list = await runHelper("oci", ["list"], "unused", o.t.env);
      expect(JSON.parse(list.stdout)).toEqual({ [host]: "BEARER_TOKEN" });
    },
    60_000,
  );
});
