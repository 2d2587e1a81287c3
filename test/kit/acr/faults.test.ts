// ACR faults beyond the kit's shared ones (test/kit/faults.test.ts runs 500,
// slow, silent, malformed and expired against the token exchange): the same
// failures of Entra ID, the managed-identity endpoint and the /v2/ challenge,
// an exchange answer without a refresh token, slow answers inside the
// deadline, a silent or hanging-up login server, and a cached token while
// Entra ID fails. Every `get` ends within its deadline (CCH_TIMEOUT) with one
// clear line, or serves a cached token that is still valid; never an expired
// one. helper.test.ts covers refusals (401), a hang of Entra ID, the
// managed-identity endpoint and the exchange, an unreachable authority, a
// refresh token that is already expired and an expired cache entry with a
// refusing cloud.

import { describe, expect, test } from "bun:test";
import { runHelper, type TestEnv } from "../../support/env.ts";
import { ageCachedToken, cachedTokens } from "../../acr/support/cache.ts";
import { expectCredential, expectError } from "../../acr/support/expect.ts";
import { acrTestEnv, LOGIN, managedIdentityEnv, servicePrincipalEnv, useWorld } from "../../acr/support/setup.ts";

const { w, track } = useWorld();
const env = (extra: Record<string, string>, registries: Record<string, unknown> = {}) => {
  const t = acrTestEnv(w, { CCH_TIMEOUT: "2", ...extra }, registries);
  return track(t);
};
const get = (t: TestEnv) => runHelper("acr", ["get"], LOGIN, t.env);
const SP = /for the service principal aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee in tenant 11111111-2222-3333-4444-555555555555$/;

/** A login server that accepts connections and then says nothing, or hangs up at once. */
function startTcp(behaviour: "silent" | "hang-up") {
  const server = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        if (behaviour === "hang-up") socket.end();
      },
      data() {},
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, stop: () => server.stop(true) };
}

describe("server errors and answers that are not what was asked", () => {
  test("HTTP 500 from Entra ID, the managed-identity endpoint and the challenge: one line saying who failed, and nothing asked after it", async () => {
    const sp = env(servicePrincipalEnv(w));
    const mi = env(managedIdentityEnv(w));

    w.entra.mode = "error";
    const entra = await get(sp);
    expectError(entra, /^Azure Container Registry: Entra ID answered HTTP 500 /, SP);
    // Retried, within the deadline, then given up: no exchange with nothing to exchange.
    expect(w.entra.calls.token).toBeGreaterThan(1);
    expect(w.acr.calls.exchange ?? 0).toBe(0);
    w.entra.mode = "ok";

    w.mi.mode = "error";
    expectError(
      await get(mi),
      /^Azure Container Registry: the managed-identity endpoint answered HTTP 500 for the system-assigned managed identity$/,
    );
    expect(w.acr.calls.exchange ?? 0).toBe(0);
    w.mi.mode = "ok";

    w.acr.challengeMode = "error";
    expectError(await get(sp), /^Azure Container Registry: http:\/\/127\.0\.0\.1:\d+\/v2\/ failed with HTTP 500 /);
    expect(w.acr.calls.exchange ?? 0).toBe(0);
    w.acr.challengeMode = "ok";
    expect(cachedTokens(sp.cacheDir)).toEqual([]);
  }, 30_000);

  test("bodies that are not JSON from Entra ID and the managed-identity endpoint, and an exchange answer without a refresh token", async () => {
    const sp = env(servicePrincipalEnv(w));
    const mi = env(managedIdentityEnv(w));
    w.entra.mode = "garbage";
    expectError(await get(sp), /^Azure Container Registry: Entra ID answered HTTP 200 with a body that is not JSON /, SP);
    w.entra.mode = "ok";
    w.mi.mode = "garbage";
    expectError(await get(mi), /the managed-identity endpoint answered HTTP 200 with a body that is not JSON for the system/);
    w.mi.mode = "ok";
    w.acr.mode = "no-refresh";
    expectError(
      await get(sp),
      /^Azure Container Registry: myreg\.azurecr\.io answered the token exchange without a refresh token$/,
    );
    expect(cachedTokens(sp.cacheDir)).toEqual([]);
  }, 30_000);

  test("a refresh token that is not a JWT is trusted no longer than the Entra ID token it came from", async () => {
    w.acr.fixedRefreshToken = "opaque-refresh-token-0123456789";
    const t = env(servicePrincipalEnv(w));
    expect(expectCredential(await get(t))).toBe("opaque-refresh-token-0123456789");
    const [entry] = cachedTokens(t.cacheDir);
    // The fake Entra ID's tokens live one hour; ACR's would have lived three.
    expect(entry!.data.expiresAt).toBeGreaterThan(Date.now() + 50 * 60_000);
    expect(entry!.data.expiresAt).toBeLessThanOrEqual(Date.now() + 3600_000);
  });
});

describe("slow answers and silence", () => {
  test("slow answers from every service, inside the deadline, are waited for", async () => {
    const t = env({ ...servicePrincipalEnv(w), CCH_TIMEOUT: "8" });
    for (const f of [w.entra, w.acr]) f.delayMs = 500;
    w.entra.mode = w.acr.challengeMode = w.acr.mode = "slow";
    expect(expectCredential(await get(t))).toBe(w.acr.issued.at(-1)!);
  }, 30_000);

  test("a login server that is silent (HTTP or TCP) or hangs up: a clear line by the deadline", async () => {
    w.acr.challengeMode = "hang";
    const silent = startTcp("silent");
    const hangUp = startTcp("hang-up");
    try {
      const hanging = env(servicePrincipalEnv(w));
      const quiet = env(servicePrincipalEnv(w), { [LOGIN]: { endpoint: silent.url } });
      const dropped = env(servicePrincipalEnv(w), { [LOGIN]: { endpoint: hangUp.url } });
      // All three at once: the silent ones cost one deadline.
      const [h, q, d] = await Promise.all([get(hanging), get(quiet), get(dropped)]);
      expectError(h, /could not reach http:\/\/127\.0\.0\.1:\d+: no answer before the deadline$/);
      expectError(q, /could not reach http:\/\/127\.0\.0\.1:\d+: no answer before the deadline$/);
      expectError(d, /^Azure Container Registry: could not reach http:\/\/127\.0\.0\.1:\d+: /);
    } finally {
      silent.stop();
      hangUp.stop();
    }
    expect(w.entra.total()).toBe(0);
  }, 30_000);
});

describe("a cached token when the cloud fails", () => {
  test("past its refresh point but valid, it is served while Entra ID fails; expired, never, whether Entra ID hangs or fails", async () => {
    const t = env(servicePrincipalEnv(w));
    const cached = expectCredential(await get(t));
    const now = Date.now();
    ageCachedToken(t.cacheDir, { issuedAt: now - 3 * 3600_000, expiresAt: now + 10 * 60_000 });

    w.entra.mode = "error";
    expect(expectCredential(await get(t))).toBe(cached);

    ageCachedToken(t.cacheDir, { issuedAt: now - 3 * 3600_000, expiresAt: now - 1000 });
    w.entra.mode = "hang";
    const r = await get(t);
    expectError(r, /Entra ID did not answer/);
    expect(r.stdout).not.toContain(cached);
    w.entra.mode = "error";
    const r2 = await get(t);
    expectError(r2, /Entra ID answered HTTP 500/);
    expect(r2.stdout).not.toContain(cached);
  }, 30_000);
});
