// Identities the way Azure's tools name them, and a token only for registries
// of the identity's own cloud:
// - AZURE_FEDERATED_TOKEN given inline (as docker-credential-acr-env accepts it);
// - a user-assigned managed identity named by its ARM resource ID;
// - a public-cloud identity never posts its token to an azurecr.cn, azurecr.us
//   or azurecr.de exchange endpoint: the plan refuses a known authority of
//   another cloud before any call, and a managed identity's token is judged by
//   its issuer before the exchange.

import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runHelper, type TestEnv } from "../support/env.ts";
import { EMPTY_CONFIG } from "../../src/config.ts";
import { silentLogger } from "../../src/log.ts";
import type { Context } from "../../src/provider.ts";
import { planAcr, sourceCloud, identityKey } from "../../src/providers/acr/plan.ts";
import { matchLoginServer } from "../../src/providers/acr/hosts.ts";
import { cloudsOfIssuer, azureCliCloud } from "../../src/providers/acr/cloud.ts";
import { expectCredential, expectError } from "./support/expect.ts";
import { CLIENT_ID, TENANT } from "./support/fakes.ts";
import { makeJwt, nowSeconds } from "./support/jwt.ts";
import { acrTestEnv, LOGIN, managedIdentityEnv, servicePrincipalEnv, useWorld } from "./support/setup.ts";

const { w, track } = useWorld();

function makeTestContext({ env }: { env: Record<string, string> }): Context {
  // An empty PATH and HOME: the machine's az and its config must not decide the answer.
  return {
    env: { PATH: "", HOME: "/nonexistent", ...env },
    now: () => new Date(),
    log: silentLogger,
    signal: AbortSignal.timeout(5000),
    deadline: Date.now() + 5000,
    config: EMPTY_CONFIG,
  };
}

const RESOURCE_ID =
  "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-pull/providers/Microsoft.ManagedIdentity/userAssignedIdentities/puller";
const get = (t: TestEnv, host = LOGIN, extra: Record<string, string> = {}) => runHelper("acr", ["get"], host, { ...t.env, ...extra });

describe("AZURE_FEDERATED_TOKEN inline", () => {
  test("the token itself is the client assertion; no file needed; it wins over AZURE_FEDERATED_TOKEN_FILE", async () => {
    const assertion = makeJwt({ iss: "https://oidc.example", sub: "system:serviceaccount:ci:builder", exp: nowSeconds() + 600 });
    const base = servicePrincipalEnv(w);
    const { AZURE_CLIENT_SECRET: _, ...noSecret } = base;
    const t = track(
      acrTestEnv(w, { ...noSecret, AZURE_FEDERATED_TOKEN: assertion, AZURE_FEDERATED_TOKEN_FILE: "/nonexistent/token" }),
    );
    expectCredential(await get(t));
    expect(w.entra.lastAssertion).toBe(assertion);
    expect(w.entra.lastUsedSecret).toBe(false);
    expect(w.entra.lastForm).toMatchObject({ client_id: CLIENT_ID });
  });

  test("an inline token and a token file are different cache entries of the same client", () => {
    const ctx = (env: Record<string, string>) => makeTestContext({ env });
    const target = { host: { key: LOGIN, hostname: LOGIN, port: null }, registry: LOGIN, settings: {}, details: matchLoginServer(LOGIN)! };
    const common = { AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT_ID };
    const inline = planAcr(target as never, ctx({ ...common, AZURE_FEDERATED_TOKEN: "x.y.z" }));
    const file = planAcr(target as never, ctx({ ...common, AZURE_FEDERATED_TOKEN_FILE: "/t" }));
    expect(inline.source).toContain("(AZURE_FEDERATED_TOKEN)");
    expect(inline.key).not.toBe(file.key);
  });
});

describe("user-assigned managed identity by resource ID", () => {
  test("the resourceId setting asks the managed-identity endpoint for that identity, and keys the cache by it", async () => {
    const t = track(acrTestEnv(w, managedIdentityEnv(w), { [LOGIN]: { endpoint: w.acr.url, resourceId: RESOURCE_ID } }));
    expectCredential(await get(t));
    // App Service's parameter for a resource ID; never a client id at the same time.
    expect(w.mi.lastQuery.mi_res_id ?? w.mi.lastQuery.msi_res_id).toBe(RESOURCE_ID);
    expect(w.mi.lastClientId).toBeNull();
    const ctx = makeTestContext({ env: {} });
    const target = { host: { key: LOGIN, hostname: LOGIN, port: null }, registry: LOGIN, settings: { resourceId: RESOURCE_ID }, details: matchLoginServer(LOGIN)! };
    const plan = planAcr(target as never, ctx);
    expect(plan.source).toBe(`the user-assigned managed identity ${RESOURCE_ID}`);
    expect(identityKey(plan.identity)).toContain(RESOURCE_ID.toLowerCase());
  });

  test("a malformed resource ID, or both clientId and resourceId, is a configuration error before any call", async () => {
    for (const settings of [{ resourceId: "/subscriptions/x/../../evil" }, { resourceId: RESOURCE_ID, clientId: CLIENT_ID }]) {
      const t = track(acrTestEnv(w, managedIdentityEnv(w), { [LOGIN]: { endpoint: w.acr.url, ...settings } }));
      expectError(await get(t), /resourceId/);
    }
    expect(w.mi.total() + w.acr.total()).toBe(0);
  });
});

describe("a token only for registries of its own cloud", () => {
  const PUBLIC = "https://login.microsoftonline.com";
  const plan = (host: string, env: Record<string, string>) => {
    const ctx = makeTestContext({ env });
    return planAcr({ host: { key: host, hostname: host, port: null }, registry: host, settings: {}, details: matchLoginServer(host)! } as never, ctx);
  };

  test("a public-cloud service principal or workload identity is refused for .cn, .us and .de before any call", () => {
    const sp = { AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT_ID, AZURE_CLIENT_SECRET: "s", AZURE_AUTHORITY_HOST: PUBLIC };
    const wi = { AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE: "/t", AZURE_AUTHORITY_HOST: PUBLIC };
    for (const env of [sp, wi]) {
      for (const [host, cloud] of [
        ["myreg.azurecr.cn", "Azure China"],
        ["myreg.azurecr.us", "Azure Government"],
        ["myreg.azurecr.de", "Azure Germany"],
      ] as const) {
        expect(() => plan(host, env)).toThrow(
          new RegExp(`belongs to the Azure public cloud, but ${host.replace(/\./g, "\\.")} is in ${cloud}: its token is not sent`),
        );
      }
      expect(plan("myreg.azurecr.io", env).identity.sources).toHaveLength(1);
    }
    // No AZURE_AUTHORITY_HOST: the registry's own cloud's authority is asked, so the identity is of that cloud.
    const { AZURE_AUTHORITY_HOST: _, ...own } = sp;
    expect(plan("myreg.azurecr.cn", own).identity.authorityHost).toBe("https://login.chinacloudapi.cn");
    // A custom authority (Azure Stack, a test) is not judged.
    expect(plan("myreg.azurecr.cn", { ...sp, AZURE_AUTHORITY_HOST: "https://127.0.0.1:1" }).identity.sources).toHaveLength(1);
  });

  test("the Azure CLI's cloud comes from its config file; a CLI of another cloud is left out of the chain", () => {
    const dir = track(acrTestEnv(w, {})).dir;
    const azure = join(dir, "azure");
    mkdirSync(azure);
    expect(azureCliCloud({ AZURE_CONFIG_DIR: azure })).toBe("public");
    writeFileSync(join(azure, "config"), "[core]\noutput = json\n\n[cloud]\nname = AzureChinaCloud\n");
    expect(azureCliCloud({ AZURE_CONFIG_DIR: azure })).toBe("china");
    const china = plan("myreg.azurecr.cn", { AZURE_CONFIG_DIR: azure });
    expect(china.identity.sources.map((s) => s.kind)).toEqual(["managed-identity", "azure-cli"]);
    const publicReg = plan("myreg.azurecr.io", { AZURE_CONFIG_DIR: azure });
    expect(publicReg.identity.sources.map((s) => s.kind)).toEqual(["managed-identity"]);
    expect(sourceCloud(china.identity.sources[1]!, china.identity, { AZURE_CONFIG_DIR: azure })).toBe("china");
    expect(() => plan("myreg.azurecr.io", { AZURE_CONFIG_DIR: azure, AZURE_TOKEN_CREDENTIALS: "AzureCliCredential" })).toThrow(
      /the Azure CLI login belongs to Azure China, but myreg\.azurecr\.io is in the Azure public cloud.*az cloud set/,
    );
  });

  test("issuers name their clouds; v1 tokens of the public cloud and Azure Government share one", () => {
    expect(cloudsOfIssuer(`https://sts.windows.net/${TENANT}/`)).toEqual(["public", "usgov"]);
    expect(cloudsOfIssuer(`https://login.microsoftonline.com/${TENANT}/v2.0`)).toEqual(["public"]);
    expect(cloudsOfIssuer(`https://sts.chinacloudapi.cn/${TENANT}/`)).toEqual(["china"]);
    expect(cloudsOfIssuer("https://127.0.0.1:1/t/v2.0")).toBeNull();
  });

  test("a public-cloud managed identity's token is never posted to a .cn or .us exchange endpoint; China's is", async () => {
    const registries = {
      "myreg.azurecr.cn": { endpoint: w.acr.url },
      "myreg.azurecr.us": { endpoint: w.acr.url },
    };
    const t = track(acrTestEnv(w, managedIdentityEnv(w), registries));
    w.mi.issuer = `https://sts.windows.net/${TENANT}/`;
    expectError(await get(t, "myreg.azurecr.cn"), /belongs to the Azure public cloud, but myreg\.azurecr\.cn is in Azure China/);
    // v1 issuer, no instance metadata service to say the machine is in Azure Government: not sent either.
    expectError(await get(t, "myreg.azurecr.us"), /does not say whether it is .*no instance metadata service said; it is not sent to myreg\.azurecr\.us/);
    expect(w.acr.calls.exchange ?? 0, JSON.stringify(w.acr.calls)).toBe(0);
    // The same identity still serves its own cloud's registry.
    expectCredential(await get(t));
    expect(w.acr.calls.exchange).toBe(1);
    // A China managed identity's token goes to the China registry.
    w.mi.issuer = `https://sts.chinacloudapi.cn/${TENANT}/`;
    expectCredential(await get(t, "myreg.azurecr.cn"), "myreg.azurecr.cn");
    expect(w.acr.calls.exchange).toBe(2);
  });
});

describe("azurecr.us and a managed identity's v1 token: the instance metadata service says which cloud", () => {
  /** An IMDS stand-in: managed-identity tokens with the shared v1 issuer, and compute/azEnvironment. */
  function startImds(azEnvironment: string) {
    const seen: string[] = [];
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        const url = new URL(req.url);
        url.pathname = url.pathname.replace(/\/+$/, "");
        seen.push(url.pathname);
        if (req.headers.get("metadata") !== "true") return Response.json({ error: "bad_request" }, { status: 400 });
        if (url.pathname === "/metadata/instance/compute/azEnvironment") return new Response(azEnvironment);
        if (url.pathname !== "/metadata/identity/oauth2/token") return new Response("not found", { status: 404 });
        const exp = nowSeconds() + 3600;
        const token = makeJwt({ aud: url.searchParams.get("resource"), tid: TENANT, iss: `https://sts.windows.net/${TENANT}/`, exp });
        w.mi.issued.add(token);
        return Response.json({ access_token: token, expires_in: "3599", expires_on: String(exp), resource: url.searchParams.get("resource"), token_type: "Bearer" });
      },
    });
    return { seen, url: `http://127.0.0.1:${server.port}`, stop: () => server.stop(true) };
  }

  for (const [environment, allowed] of [
    ["AzureUSGovernmentCloud", true],
    ["AzurePublicCloud", false],
  ] as const) {
    test(`IMDS says ${environment}: the token ${allowed ? "is" : "is not"} exchanged at azurecr.us`, async () => {
      const imds = startImds(environment);
      try {
        const env = { NODE_EXTRA_CA_CERTS: w.ca.caFile, AZURE_AUTHORITY_HOST: w.entra.url, AZURE_POD_IDENTITY_AUTHORITY_HOST: imds.url, PATH: "/usr/bin:/bin" };
        const t = track(acrTestEnv(w, env, { "myreg.azurecr.us": { endpoint: w.acr.url } }));
        const r = await get(t, "myreg.azurecr.us");
        if (allowed) {
          expectCredential(r, "myreg.azurecr.us");
          expect(w.acr.calls.exchange).toBe(1);
        } else {
          expectError(r, /system-assigned managed identity belongs to the Azure public cloud, but myreg\.azurecr\.us is in Azure Government/);
          expect(w.acr.calls.exchange ?? 0).toBe(0);
        }
        expect(imds.seen, JSON.stringify(imds.seen)).toContain("/metadata/instance/compute/azEnvironment");
      } finally {
        await imds.stop();
      }
    });
  }
});
