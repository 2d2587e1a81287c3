// Many helper processes at once on a cold cache with an instance principal
// (kubelet pulling a pod's images on a node): one metadata round, one
// federation call and one token call in all, every process answering the same
// token. The kit (test/kit/herd.test.ts) runs the herd and the lock recovery
// with an API key, as for every cloud.

import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { requireDist } from "../../support/env.ts";
import {
  makeInstanceIdentity,
  startFakeFederation,
  startFakeMetadata,
  type FakeFederation,
  type FakeMetadata,
} from "../../oci/fakes.ts";
import { credentialOf, setupOci, type OciTest } from "../../oci/setup.ts";

requireDist();

const PROCESSES = 32;
let o: OciTest;
const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
  await o.cleanup();
});

async function storm(env: Record<string, string> = {}) {
  const results = await Promise.all(Array.from({ length: PROCESSES }, () => o.get("iad.ocir.io", env)));
  // Every process exits 0 with a full answer (the seed exited 0 with empty stdout when it lost the lock).
  const secrets = results.map((r) => credentialOf(r).Secret);
  expect(new Set(secrets).size).toBe(1);
  return secrets[0]!;
}

describe(`${PROCESSES} concurrent get on a cold cache`, () => {
  test("instance principal: one metadata round, one federation call, one token call", async () => {
    o = setupOci({ withConfig: false });
    const identity = await makeInstanceIdentity(join(o.t.dir, "pki"));
    const metadata: FakeMetadata = startFakeMetadata(identity);
    const federation: FakeFederation = startFakeFederation(o.ocir, identity.tenancy);
    stops.push(metadata.stop, federation.stop);
    o.configure({ "iad.ocir.io": { auth: "instance_principal" } });
    const secret = await storm({ CCH_OCI_METADATA_URL: metadata.url, CCH_OCI_FEDERATION_ENDPOINT: federation.url });
    expect(o.ocir.issued).toEqual([secret]);
    expect(o.ocir.calls).toHaveLength(1);
    expect(federation.calls).toBe(1);
    // build() and the federation client's refresh each read the certificate once: one process, not 32.
    expect(metadata.counts.get("identity/cert.pem")).toBeLessThanOrEqual(2);
  }, 60_000);
});
