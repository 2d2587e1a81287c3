// docker-credential-acr as docker runs it (the built executable, a subprocess)
// against local fakes of Entra ID, managed identity and an ACR front end.

import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, runHelper, type TestEnv } from "../support/env.ts";
import { ageCachedToken, cachedTokens } from "./support/cache.ts";
import { expectCredential, expectError } from "./support/expect.ts";
import { ACR_SCOPE, CLIENT_ID, CLIENT_SECRET, TENANT } from "./support/fakes.ts";
import { makeJwt, nowSeconds } from "./support/jwt.ts";
import { acrTestEnv, LOGIN, managedIdentityEnv, noIdentityEnv, servicePrincipalEnv, useWorld } from "./support/setup.ts";

const NOT_FOUND = "credentials not found in native keychain\n";

const { w, track } = useWorld();
const env = track;

const get = (t: TestEnv, host = LOGIN, extra: Record<string, string> = {}) =>
  runHelper("acr", ["get"], host, { ...t.env, ...extra });

describe("service principal (AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET)", () => {
  test("round trip: challenge, Entra ID token for the registry scope, exchange with tenant", async () => {
    const t = env(acrTestEnv(w, servicePrincipalEnv(w)));
    const secret = expectCredential(await get(t));
    expect(secret).toBe(w.acr.issued.at(-1)!);
    expect(w.entra.calls.token).toBe(1);
    expect(w.entra.lastForm).toMatchObject({ client_id: CLIENT_ID, scope: ACR_SCOPE, grant_type: "client_credentials" });
    expect(w.acr.calls).toEqual({ challenge: 1, exchange: 1 });
    expect(w.acr.lastForm).toEqual({ grant_type: "access_token", service: LOGIN, tenant: TENANT });
    expect(w.thief.total()).toBe(0);
  });

  test("the debug log says what happened and shows no secret", async () => {
    const t = env(acrTestEnv(w, servicePrincipalEnv(w)));
    const logFile = t.env.CCH_LOG ?? join(t.dir, "debug.log");
    const r = await get(t, LOGIN, { CCH_DEBUG: "1", CCH_LOG: logFile });
    expect(r.exitCode).toBe(0);
    const secret = JSON.parse(r.stdout).Secret as string;
    const log = readFileSync(logFile, "utf8");
    expect(log).toContain("Entra ID token from client-secret");
    for (const hidden of [secret, CLIENT_SECRET, ...w.entra.issued]) {
      expect(log).not.toContain(hidden);
      expect(r.stderr).not.toContain(hidden);
    }
  });

  test("a cache hit answers with no call at all", async () => {
    const t = env(acrTestEnv(w, servicePrincipalEnv(w)));
    const first = expectCredential(await get(t));
    w.entra.reset();
    w.acr.reset();
    const second = expectCredential(await get(t, `https://${LOGIN}/v2/`), `https://${LOGIN}/v2/`);
    expect(second).toBe(first);
    expect(w.entra.total() + w.acr.total() + w.mi.total()).toBe(0);
  });

  test("Entra ID refusing the service principal: one line naming it, no secret", async () => {
    w.entra.mode = "refuse";
    const t = env(acrTestEnv(w, servicePrincipalEnv(w)));
    expectError(await get(t), /Entra ID refused the service principal aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee/, /AADSTS7000215/);
    expect(w.acr.calls.exchange ?? 0).toBe(0);
  });

  test("the registry refusing the exchange (no AcrPull): one line with the hint", async () => {
    w.acr.mode = "refuse";
    const t = env(acrTestEnv(w, servicePrincipalEnv(w)));
    expectError(await get(t), /myreg\.azurecr\.io refused the token exchange/, /HTTP 401/, /AcrPull/);
  });

  test("a hanging Entra ID ends within CCH_TIMEOUT with a clear error", async () => {
    w.entra.mode = "hang";
    const t = env(acrTestEnv(w, { ...servicePrincipalEnv(w), CCH_TIMEOUT: "2" }));
    const r = await get(t);
    expectError(
      r,
      /^Azure Container Registry: Entra ID did not answer for the service principal aaaaaaaa-\S+ in tenant \S+ before the deadline$/,
    );
    expect(w.acr.calls.exchange ?? 0).toBe(0);
  }, 30_000);

  test("an authority that cannot be reached is said so, not 'no identity'", async () => {
    const t = env(acrTestEnv(w, { ...servicePrincipalEnv(w), AZURE_AUTHORITY_HOST: `https://127.0.0.1:${await freePort()}` }));
    expectError(await get(t), /could not reach Entra ID at https:\/\/127\.0\.0\.1:\d+ for the service principal/);
    expect(w.acr.calls.exchange ?? 0).toBe(0);
  }, 30_000);

  test("a hanging exchange ends within CCH_TIMEOUT too", async () => {
    w.acr.mode = "hang";
    const t = env(acrTestEnv(w, { ...servicePrincipalEnv(w), CCH_TIMEOUT: "2" }));
    expectError(await get(t), /could not reach http:\/\/127\.0\.0\.1:\d+ for the token exchange: no answer before the deadline$/);
  }, 30_000);
});

describe("managed identity (IDENTITY_ENDPOINT + IDENTITY_HEADER)", () => {
  test("system-assigned: round trip, tenant read from the token's tid", async () => {
    const t = env(acrTestEnv(w, managedIdentityEnv(w)));
    const secret = expectCredential(await get(t));
    expect(secret).toBe(w.acr.issued.at(-1)!);
    expect(w.mi.calls.token).toBe(1);
    expect(w.mi.lastClientId).toBeNull();
    expect(w.acr.lastForm).toEqual({ grant_type: "access_token", service: LOGIN, tenant: TENANT });
    expect(w.entra.total() + w.thief.total()).toBe(0);
  });

  test("user-assigned by the registry's clientId setting", async () => {
    const uami = "99999999-8888-7777-6666-555555555555";
    const t = env(acrTestEnv(w, managedIdentityEnv(w), { [LOGIN]: { endpoint: w.acr.url, clientId: uami } }));
    expectCredential(await get(t));
    expect(w.mi.lastClientId).toBe(uami);
  });

  test("a hanging managed-identity endpoint ends within CCH_TIMEOUT", async () => {
    w.mi.mode = "hang";
    const t = env(acrTestEnv(w, { ...managedIdentityEnv(w), CCH_TIMEOUT: "2" }));
    expectError(
      await get(t),
      /^Azure Container Registry: the managed-identity endpoint did not answer for the system-assigned managed identity before the deadline$/,
    );
    expect(w.acr.calls.exchange ?? 0).toBe(0);
  }, 30_000);

  test("an endpoint that says no is reported as a refusal, not as a missing identity", async () => {
    w.mi.mode = "refuse";
    const t = env(acrTestEnv(w, managedIdentityEnv(w)));
    expectError(await get(t), /Entra ID refused the system-assigned managed identity/);
  });
});

describe("workload identity (AZURE_FEDERATED_TOKEN_FILE)", () => {
  test("round trip with the projected token as client assertion", async () => {
    const t = env(acrTestEnv(w, {}));
    const tokenFile = join(t.dir, "sa-token");
    writeFileSync(tokenFile, makeJwt({ sub: "system:serviceaccount:default:app", exp: nowSeconds() + 3600 }));
    const wi = {
      ...managedIdentityEnv(w),
      AZURE_TENANT_ID: TENANT,
      AZURE_CLIENT_ID: CLIENT_ID,
      AZURE_FEDERATED_TOKEN_FILE: tokenFile,
    };
    expectCredential(await get(t, LOGIN, wi));
    expect(w.entra.lastForm).toMatchObject({
      client_id: CLIENT_ID,
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    });
    expect(w.mi.total()).toBe(0);
  });
});

test("no identity anywhere: one actionable line, naming each source tried", async () => {
  // The managed-identity endpoint is a closed port (the SDK would retry it for
  // ~6 s; the helper's own probe sees it is not there), and no az on PATH.
  const t = env(acrTestEnv(w, noIdentityEnv(w, await freePort())));
  const r = await get(t);
  expectError(
    r,
    /no Azure identity for myreg\.azurecr\.io/,
    /managed identity: no answer from http:\/\/127\.0\.0\.1:\d+/,
    /Azure CLI/,
    /az login/,
  );
  expect(w.acr.calls.exchange ?? 0).toBe(0);
  expect(w.thief.total()).toBe(0);
});

describe("hosts that are not ACR login servers", () => {
  const spoofed = [
    "x.azurecr.io.evil.com",
    "xazurecr.io",
    "myreg.westeurope.data.azurecr.io",
    "myreg.azurecr.io.evil.com:443",
    "azurecr.io",
    "a.b.azurecr.io",
    "my_reg.azurecr.io",
    "myreg.azurecr.com",
    "https://myreg.azurecr.io@evil.com",
    "evil.com/myreg.azurecr.io",
  ];
  test("get not-found and cause no call, even with an endpoint configured for them", async () => {
    const configured = Object.fromEntries(spoofed.filter((h) => !h.includes("/")).map((h) => [h, { endpoint: w.thief.url }]));
    const t = env(acrTestEnv(w, servicePrincipalEnv(w), configured));
    for (const host of spoofed) {
      const r = await get(t, host);
      expect({ host, stdout: r.stdout, exitCode: r.exitCode }).toEqual({ host, stdout: NOT_FOUND, exitCode: 1 });
    }
    expect(w.thief.total() + w.entra.total() + w.acr.total() + w.mi.total()).toBe(0);
  });
});

describe("the challenge decides where the token goes", () => {
  test("a realm on another host: no token leaves, no Entra ID call, a clear error", async () => {
    const t = env(acrTestEnv(w, servicePrincipalEnv(w)));
    const realms = [
      `Bearer realm="${w.thief.url}/oauth2/token",service="${LOGIN}"`,
      `Bearer service="${LOGIN}", realm="https://myreg.azurecr.io.evil.com/oauth2/token"`,
      `Bearer realm=${w.thief.url}/oauth2/token`,
    ];
    for (const challenge of realms) {
      w.acr.challenge = challenge;
      expectError(await get(t), /unexpected challenge/, /refusing to send a token there/);
    }
    expect(w.thief.total()).toBe(0);
    expect(w.entra.total()).toBe(0);
    expect(w.acr.calls.exchange ?? 0).toBe(0);
  });

  test("not a Bearer challenge, or no realm: unexpected challenge", async () => {
    const t = env(acrTestEnv(w, servicePrincipalEnv(w)));
    for (const challenge of ['Basic realm="registry"', `Bearer service="${LOGIN}"`]) {
      w.acr.challenge = challenge;
      expectError(await get(t), /unexpected challenge from http:\/\/127\.0\.0\.1:\d+\/v2\//);
    }
    expect(w.entra.total()).toBe(0);
  });

  test("parameters in any order, unquoted, with commas inside quotes, work", async () => {
    const t = env(acrTestEnv(w, servicePrincipalEnv(w)));
    w.acr.challenge = `Basic realm="a, b", BEARER scope="repository:x:pull,push", SERVICE=${LOGIN}, Realm="${w.acr.url}/oauth2/token"`;
    expectCredential(await get(t));
    expect(w.acr.lastForm?.service).toBe(LOGIN);
  });
});

describe("expiry and refresh", () => {
  test("the expiry is the refresh token's JWT exp", async () => {
    w.acr.lifetime = 7 * 3600 + 17;
    const t = env(acrTestEnv(w, servicePrincipalEnv(w)));
    const secret = expectCredential(await get(t));
    const exp = JSON.parse(Buffer.from(secret.split(".")[1]!, "base64url").toString()).exp as number;
    const [entry] = cachedTokens(t.cacheDir);
    expect(entry!.data.expiresAt).toBe(exp * 1000);
  });

  test("past half of its life the token is refreshed; if the refresh fails a still valid one is served", async () => {
    const t = env(acrTestEnv(w, servicePrincipalEnv(w)));
    const first = expectCredential(await get(t));
    const now = Date.now();
    ageCachedToken(t.cacheDir, { issuedAt: now - 3 * 3600_000, expiresAt: now + 10 * 60_000 });
    const second = expectCredential(await get(t));
    expect(second).not.toBe(first);
    expect(w.acr.calls.exchange).toBe(2);

    ageCachedToken(t.cacheDir, { issuedAt: now - 3 * 3600_000, expiresAt: now + 10 * 60_000 });
    w.entra.mode = "refuse";
    expect(expectCredential(await get(t))).toBe(second);
  });

  test("an expired token is never served: the refresh failure is reported", async () => {
    const t = env(acrTestEnv(w, servicePrincipalEnv(w)));
    expectCredential(await get(t));
    const now = Date.now();
    ageCachedToken(t.cacheDir, { issuedAt: now - 4 * 3600_000, expiresAt: now - 1000 });
    w.entra.mode = "refuse";
    expectError(await get(t), /Entra ID refused/);
  });

  test("a refresh token that is already expired is refused, not served", async () => {
    w.acr.lifetime = -60;
    const t = env(acrTestEnv(w, servicePrincipalEnv(w)));
    expectError(await get(t), /already expired/);
  });
});

describe("configuration", () => {
  test("an alias host uses the ACR login server it stands for", async () => {
    const t = env(acrTestEnv(w, servicePrincipalEnv(w), { "127.0.0.1:5999": { alias: LOGIN, endpoint: w.acr.url } }));
    expectCredential(await get(t, "127.0.0.1:5999"), "127.0.0.1:5999");
    expect(w.acr.lastForm?.service).toBe(LOGIN);
  });

  test("sovereign login servers follow AZURE_AUTHORITY_HOST when it is set", async () => {
    const cn = "myreg.azurecr.cn";
    const t = env(acrTestEnv(w, servicePrincipalEnv(w), { [cn]: { endpoint: w.acr.url } }));
    expectCredential(await get(t, cn), cn);
    expect(w.entra.calls.token).toBe(1);
  });

  test("an http endpoint off loopback, or an unknown setting, is refused before any call", async () => {
    const t = env(acrTestEnv(w, servicePrincipalEnv(w), { [LOGIN]: { endpoint: "http://example.com" } }));
    expectError(await get(t), /"endpoint" must be https/);
    t.writeConfig({ registries: { [LOGIN]: { endpoint: w.acr.url, clientid: "x" } } });
    expectError(await get(t), /unknown setting "clientid"/);
    expect(w.acr.total() + w.entra.total()).toBe(0);
  });
});
