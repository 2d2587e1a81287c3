// Kubelet service-account-token mode (KEP-4412): the pod's token becomes the
// client assertion for the identity its annotations name. The kubelet protocol
// is not wired in the CLI yet, so this drives the provider in a subprocess.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { runCommand } from "../support/env.ts";
import { CLIENT_ID, TENANT } from "./support/fakes.ts";
import { makeJwt, nowSeconds } from "./support/jwt.ts";
import { LOGIN, startWorld, type World } from "./support/setup.ts";

let w: World;
beforeAll(() => {
  w = startWorld();
});
afterAll(async () => {
  await w.stop();
});

async function runFetch(input: unknown) {
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: w.caDir.dir,
    NODE_EXTRA_CA_CERTS: w.ca.caFile,
    AZURE_AUTHORITY_HOST: w.entra.url,
    AZURE_POD_IDENTITY_AUTHORITY_HOST: w.thief.url,
  };
  const r = await runCommand([process.execPath, join(import.meta.dir, "support/run-fetch.ts")], JSON.stringify(input), env);
  expect(r.stderr).toBe("");
  return JSON.parse(r.stdout);
}

test("the pod's token is the client assertion for the annotated client and tenant", async () => {
  const podToken = makeJwt({
    iss: "https://kubernetes.default.svc",
    sub: "system:serviceaccount:team:puller",
    exp: nowSeconds() + 600,
  });
  const out = await runFetch({
    host: LOGIN,
    registry: LOGIN,
    settings: { endpoint: w.acr.url },
    serviceAccount: {
      token: podToken,
      annotations: { "kubernetes.azure.com/acr-client-id": CLIENT_ID, "kubernetes.azure.com/acr-tenant-id": TENANT },
    },
  });
  expect(out.ok).toBe(true);
  expect(out.secret).toBe(w.acr.issued.at(-1));
  expect(w.entra.lastAssertion).toBe(podToken);
  expect(w.entra.lastForm).toMatchObject({ client_id: CLIENT_ID, scope: "https://containerregistry.azure.net/.default" });
  expect(w.acr.lastForm?.tenant).toBe(TENANT);
  expect(out.identity).toMatch(
    /^sa:11111111-2222-3333-4444-555555555555\/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee@127\.0\.0\.1:\d+@[0-9a-f]{16}$/,
  );
  expect(w.mi.total() + w.thief.total()).toBe(0);
});

test("without the annotations: a clear error and no call", async () => {
  w.entra.reset();
  const out = await runFetch({
    host: LOGIN,
    registry: LOGIN,
    settings: { endpoint: w.acr.url },
    serviceAccount: { token: "x.y.z", annotations: {} },
  });
  expect(out).toEqual({ ok: false, error: expect.stringContaining("kubernetes.azure.com/acr-client-id") });
  expect(w.entra.total()).toBe(0);
});
