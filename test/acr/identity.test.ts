// Which identity asks (DefaultAzureCredential's order), which authority, and
// the cache key that keeps identities apart; all without the SDK.

import { describe, expect, test } from "bun:test";
import { describeSource, identityKey, planIdentity } from "../../src/providers/acr/plan.ts";
import { readAcrSettings, type AcrSettings } from "../../src/providers/acr/settings.ts";
import { ProviderError } from "../../src/provider.ts";
import { makeJwt } from "./support/jwt.ts";

const none = { tenantId: null, clientId: null, endpoint: null };
const SP = { AZURE_TENANT_ID: "t1", AZURE_CLIENT_ID: "c1", AZURE_CLIENT_SECRET: "s3cret-value" };

describe("planIdentity", () => {
  test("environment service principal alone", () => {
    const p = planIdentity(SP, none, "public");
    expect(p.sources).toEqual([{ kind: "client-secret", tenantId: "t1", clientId: "c1" }]);
    expect(p.authorityHost).toBe("https://login.microsoftonline.com");
  });

  test("certificate service principal", () => {
    const p = planIdentity(
      { AZURE_TENANT_ID: "t1", AZURE_CLIENT_ID: "c1", AZURE_CLIENT_CERTIFICATE_PATH: "/k.pem" },
      none,
      "public",
    );
    expect(p.sources.map((s) => s.kind)).toEqual(["client-certificate"]);
  });

  test("workload identity, client id from the registry's settings", () => {
    const env = { AZURE_TENANT_ID: "t1", AZURE_FEDERATED_TOKEN_FILE: "/var/run/token" };
    expect(planIdentity(env, { ...none, clientId: "c9" }, "public").sources).toEqual([
      { kind: "workload-identity", tenantId: "t1", clientId: "c9" },
    ]);
  });

  test("otherwise managed identity then Azure CLI; AZURE_CLIENT_ID picks a user-assigned identity", () => {
    expect(planIdentity({}, none, "public").sources.map((s) => [s.kind, s.clientId])).toEqual([
      ["managed-identity", null],
      ["azure-cli", null],
    ]);
    expect(planIdentity({ AZURE_CLIENT_ID: "u1" }, none, "public").sources[0]).toEqual({
      kind: "managed-identity",
      tenantId: null,
      clientId: "u1",
    });
    expect(planIdentity({ AZURE_CLIENT_ID: "u1" }, { ...none, clientId: "u2" }, "public").sources[0]!.clientId).toBe("u2");
  });

  test("a registry configured for another client id does not use the environment's secret", () => {
    const p = planIdentity(SP, { ...none, clientId: "other" }, "public");
    expect(p.sources.map((s) => s.kind)).toEqual(["managed-identity", "azure-cli"]);
    expect(p.sources[0]!.clientId).toBe("other");
  });

  test("tenantId setting overrides AZURE_TENANT_ID", () => {
    expect(planIdentity(SP, { ...none, tenantId: "t2" }, "public").sources[0]!.tenantId).toBe("t2");
  });

  test("AZURE_TOKEN_CREDENTIALS narrows the chain as in the SDK", () => {
    expect(planIdentity({ ...SP, AZURE_TOKEN_CREDENTIALS: "dev" }, none, "public").sources.map((s) => s.kind)).toEqual([
      "azure-cli",
    ]);
    expect(planIdentity({ AZURE_TOKEN_CREDENTIALS: "prod" }, none, "public").sources.map((s) => s.kind)).toEqual([
      "managed-identity",
    ]);
    expect(
      planIdentity({ ...SP, AZURE_TOKEN_CREDENTIALS: "ManagedIdentityCredential" }, none, "public").sources.map((s) => s.kind),
    ).toEqual(["managed-identity"]);
    expect(() => planIdentity({ AZURE_TOKEN_CREDENTIALS: "VisualStudioCodeCredential" }, none, "public")).toThrow(ProviderError);
  });

  test("sovereign clouds use their own authority unless AZURE_AUTHORITY_HOST is set", () => {
    expect(planIdentity(SP, none, "china").authorityHost).toBe("https://login.chinacloudapi.cn");
    expect(planIdentity(SP, none, "usgov").authorityHost).toBe("https://login.microsoftonline.us");
    const custom = planIdentity({ ...SP, AZURE_AUTHORITY_HOST: "https://127.0.0.1:9443/" }, none, "china");
    expect(custom.authorityHost).toBe("https://127.0.0.1:9443");
    expect(custom.customAuthority).toBe(true);
    expect(
      planIdentity({ ...SP, AZURE_AUTHORITY_HOST: "https://login.microsoftonline.us" }, none, "public").customAuthority,
    ).toBe(false);
  });

  test("service-account-token mode: the pod's annotations, and its service account in the key", () => {
    const annotations = { "kubernetes.azure.com/acr-client-id": "pc", "kubernetes.azure.com/acr-tenant-id": "pt" };
    const tokenA = makeJwt({ iss: "https://k8s", sub: "system:serviceaccount:a:default" });
    const tokenB = makeJwt({ iss: "https://k8s", sub: "system:serviceaccount:b:default" });
    const a = planIdentity({}, none, "public", { token: tokenA, annotations });
    expect(a.sources).toEqual([{ kind: "service-account", tenantId: "pt", clientId: "pc" }]);
    const b = planIdentity({}, none, "public", { token: tokenB, annotations });
    expect(identityKey(a)).not.toBe(identityKey(b));
    expect(() => planIdentity({}, none, "public", { token: tokenA, annotations: {} })).toThrow(/acr-client-id/);
  });

  test("service-account-token mode: both annotations are required, checked, and never filled in from the node", () => {
    const token = makeJwt({ sub: "system:serviceaccount:a:default" });
    const plan = (annotations: Record<string, string>, env: Record<string, string> = {}, settings: AcrSettings = none) =>
      planIdentity(env, settings, "public", { token, annotations });
    // The node's AZURE_CLIENT_ID/AZURE_TENANT_ID and the registry's settings describe the node, not the pod.
    expect(() => plan({ "kubernetes.azure.com/acr-client-id": "pc" }, SP, { ...none, tenantId: "t9" })).toThrow(
      /no kubernetes\.azure\.com\/acr-tenant-id annotation/,
    );
    expect(() => plan({ "kubernetes.azure.com/acr-tenant-id": "pt" }, SP, { ...none, clientId: "c9" })).toThrow(
      /no kubernetes\.azure\.com\/acr-client-id annotation/,
    );
    expect(() => plan({ "kubernetes.azure.com/acr-client-id": "pc", "kubernetes.azure.com/acr-tenant-id": "../x" })).toThrow(
      /acr-tenant-id must be a tenant id/,
    );
    expect(() => plan({ "kubernetes.azure.com/acr-client-id": "p c", "kubernetes.azure.com/acr-tenant-id": "pt" })).toThrow(
      /acr-client-id must be a client id/,
    );
    const ok = plan({ "kubernetes.azure.com/acr-client-id": " pc ", "kubernetes.azure.com/acr-tenant-id": "pt" }, SP);
    expect(ok.sources).toEqual([{ kind: "service-account", tenantId: "pt", clientId: "pc" }]);
  });
});

describe("identityKey", () => {
  test("short, stable, secret-free, and different per identity and authority", () => {
    const k = identityKey(planIdentity(SP, none, "public"));
    expect(k).toBe("sp:t1/c1@login.microsoftonline.com");
    expect(k).not.toContain("s3cret");
    expect(identityKey(planIdentity({}, none, "public"))).toBe("mi:/+cli:/@login.microsoftonline.com");
    expect(identityKey(planIdentity({ AZURE_CLIENT_ID: "u1" }, none, "public"))).not.toBe(
      identityKey(planIdentity({}, none, "public")),
    );
    expect(identityKey(planIdentity(SP, none, "china"))).not.toBe(k);
  });

  test("describes sources for messages", () => {
    expect(describeSource({ kind: "managed-identity", tenantId: null, clientId: null })).toBe(
      "the system-assigned managed identity",
    );
    expect(describeSource({ kind: "client-secret", tenantId: "t", clientId: "c" })).toBe("the service principal c in tenant t");
  });
});

describe("readAcrSettings", () => {
  test("endpoint: https anywhere, http only on loopback, no path or userinfo", () => {
    for (const ok of ["https://r.privatelink.azurecr.io", "https://10.0.0.4:8443/", "http://127.0.0.1:8080", "http://[::1]:5"]) {
      expect(readAcrSettings({ endpoint: ok }, "h").endpoint).not.toBeNull();
    }
    for (const bad of [
      "http://localhost:1",
      "http://example.com",
      "http://10.0.0.4",
      "https://u:p@r.azurecr.io",
      "https://r.azurecr.io/v2",
      "ftp://x",
      "https://x?y=1",
      "nope",
    ]) {
      expect(() => readAcrSettings({ endpoint: bad }, "h")).toThrow(/"endpoint" must be/);
    }
  });

  test("tenant and client ids are checked before going into a URL", () => {
    expect(readAcrSettings({ tenantId: "contoso.onmicrosoft.com", clientId: "c1" }, "h")).toMatchObject({
      tenantId: "contoso.onmicrosoft.com",
      clientId: "c1",
    });
    expect(() => readAcrSettings({ tenantId: "../evil" }, "h")).toThrow(/tenantId/);
    expect(() => readAcrSettings({ clientId: 42 }, "h")).toThrow(/clientId/);
  });
});
