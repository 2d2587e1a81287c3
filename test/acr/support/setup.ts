// One world of fakes for the helper tests: a CA, an Entra ID authority, a
// managed-identity endpoint, an ACR front end, and a "thief" that must never
// be called; plus environments for the docker-credential-acr subprocess.

import { join } from "node:path";
import { afterAll, afterEach, beforeAll } from "bun:test";
import { makeTestEnv, requireDist, type TestEnv } from "../../support/env.ts";
import {
  CLIENT_ID,
  CLIENT_SECRET,
  TENANT,
  startCountingServer,
  startFakeAcr,
  startFakeEntra,
  startFakeManagedIdentity,
  type FakeAcr,
  type FakeEntra,
  type FakeManagedIdentity,
} from "./fakes.ts";
import { makeTestCa, type TestCa } from "../../support/tls.ts";

export const LOGIN = "myreg.azurecr.io";

export interface World {
  ca: TestCa;
  entra: FakeEntra;
  mi: FakeManagedIdentity;
  acr: FakeAcr;
  /** Stands in for IMDS and for any host that must not be reached. */
  thief: ReturnType<typeof startCountingServer>;
  caDir: TestEnv;
  stop(): Promise<void>;
}

export function startWorld(service = LOGIN): World {
  const caDir = makeTestEnv();
  const ca = makeTestCa(join(caDir.dir, "ca"));
  const entra = startFakeEntra(ca);
  const mi = startFakeManagedIdentity();
  const acr = startFakeAcr(service, (token) => entra.issued.has(token) || mi.issued.has(token));
  const thief = startCountingServer();
  return {
    ca,
    entra,
    mi,
    acr,
    thief,
    caDir,
    async stop() {
      await Promise.all([entra.stop(), mi.stop(), acr.stop(), thief.stop()]);
      caDir.cleanup();
    },
  };
}

/** Puts every fake back to its normal behaviour and forgets the counts, between tests. */
export function resetWorld(w: World): void {
  for (const f of [w.entra, w.mi, w.acr, w.thief]) {
    f.reset();
    f.delayMs = 500;
  }
  w.entra.mode = w.mi.mode = w.acr.mode = w.acr.challengeMode = "ok";
  w.entra.federated.clear();
  w.mi.issuer = null;
  for (const k of Object.keys(w.entra.byClient)) delete w.entra.byClient[k];
  w.acr.challenge = null;
  w.acr.fixedRefreshToken = null;
  w.acr.lifetime = 3 * 3600;
}

/** Base environment: trusts the test CA, Entra ID is the fake, IMDS is the thief (so nothing leaves 127.0.0.1). */
function baseEnv(w: World): Record<string, string> {
  return {
    NODE_EXTRA_CA_CERTS: w.ca.caFile,
    AZURE_AUTHORITY_HOST: w.entra.url,
    AZURE_POD_IDENTITY_AUTHORITY_HOST: w.thief.url,
  };
}

export function servicePrincipalEnv(w: World): Record<string, string> {
  return { ...baseEnv(w), AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT_ID, AZURE_CLIENT_SECRET: CLIENT_SECRET };
}

export function managedIdentityEnv(w: World): Record<string, string> {
  return { ...baseEnv(w), IDENTITY_ENDPOINT: `${w.mi.url}/msi/token`, IDENTITY_HEADER: w.mi.header };
}

/** No identity at all: IMDS unreachable (a closed port on 127.0.0.1), no az on PATH. */
export function noIdentityEnv(w: World, closedPort: number): Record<string, string> {
  return { ...baseEnv(w), AZURE_POD_IDENTITY_AUTHORITY_HOST: `http://127.0.0.1:${closedPort}` };
}

/** A test environment whose configuration sends `LOGIN` to the fake ACR front end. */
export function acrTestEnv(w: World, env: Record<string, string>, registries: Record<string, unknown> = {}): TestEnv {
  const t = makeTestEnv(env);
  t.writeConfig({ registries: { [LOGIN]: { endpoint: w.acr.url }, ...registries } });
  return t;
}

/**
 * One world of fakes for a test file: reset after each test, stopped after
 * the file. `track(t)` cleans a test environment up after its test.
 */
export function useWorld(): { w: World; track: (t: TestEnv) => TestEnv } {
  const w = startWorld();
  const envs: TestEnv[] = [];
  beforeAll(() => requireDist());
  afterEach(() => {
    for (const t of envs.splice(0)) t.cleanup();
    resetWorld(w);
  });
  afterAll(() => w.stop());
  return { w, track: (t) => (envs.push(t), t) };
}
