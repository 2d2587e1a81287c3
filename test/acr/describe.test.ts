// describeIdentity (for `doctor`): which Azure identity sources are here,
// which one a fetch would use, with tenant, client and authority; never a
// secret. The IMDS probe is injected, except against a local server, so
// nothing here reaches 169.254.169.254.

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { planAcr } from "../../src/providers/acr/plan.ts";
import { describeVia } from "../support/provider.ts";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EMPTY_CONFIG, type RegistrySettings } from "../../src/config.ts";
import { silentLogger } from "../../src/log.ts";
import type { Context, IdentityReport, ServiceAccountIdentity, Target } from "../../src/provider.ts";
import { provider } from "../../src/providers/acr.ts";
import { describeAcrIdentity, SOURCE_NAMES } from "../../src/providers/acr/describe.ts";
import { matchLoginServer, type AcrLoginServer } from "../../src/providers/acr/hosts.ts";
import { freePort } from "../support/env.ts";
import { makeJwt } from "./support/jwt.ts";

const LOGIN = "myreg.azurecr.io";
const SECRETS = {
  AZURE_CLIENT_SECRET: "sp-secret-value-1234",
  IDENTITY_HEADER: "identity-header-value-5678",
  AZURE_CLIENT_CERTIFICATE_PASSWORD: "cert-password-9012",
};
const SP = { AZURE_TENANT_ID: "t-1", AZURE_CLIENT_ID: "c-1", AZURE_CLIENT_SECRET: SECRETS.AZURE_CLIENT_SECRET };

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "cch-acr-describe-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const probes: string[] = [];
afterEach(() => {
  probes.length = 0;
});

function ctxFor(env: Record<string, string>, serviceAccount?: ServiceAccountIdentity): Context {
  return {
    // An empty PATH unless the test gives one: the machine's az must not decide the answer.
    env: { PATH: "", ...env },
    now: () => new Date(),
    log: silentLogger,
    signal: AbortSignal.timeout(5000),
    deadline: Date.now() + 5000,
    config: EMPTY_CONFIG,
    ...(serviceAccount ? { serviceAccount } : {}),
  };
}

const target = (settings: RegistrySettings = {}): Target<AcrLoginServer> => ({
  host: { key: LOGIN, hostname: LOGIN, port: null },
  registry: LOGIN,
  settings,
  details: matchLoginServer(LOGIN)!,
});

/** describeIdentity with a fake IMDS probe that answers `answers` and records where it was pointed. */
async function describeWith(env: Record<string, string>, answers = false, settings: RegistrySettings = {}) {
  const ctx = ctxFor(env);
  const report = await describeAcrIdentity(planAcr(target(settings), ctx), ctx, {
    probe: async (base) => (probes.push(base), answers),
  });
  expectNoSecret(report);
  return report;
}

function expectNoSecret(report: IdentityReport) {
  const text = JSON.stringify(report);
  for (const secret of Object.values(SECRETS)) expect(text).not.toContain(secret);
  expect(text).not.toContain("eyJ");
}

const source = (r: IdentityReport, name: string) => r.sources.find((s) => s.name === name)!;

describe("describeIdentity", () => {
  test("an environment service principal is used; its tenant, client and authority are shown, not its secret", async () => {
    const r = await describeWith({ ...SP, AZURE_CLIENT_CERTIFICATE_PASSWORD: SECRETS.AZURE_CLIENT_CERTIFICATE_PASSWORD });
    expect(r.used).toBe(SOURCE_NAMES["client-secret"]);
    expect(r.sources.map((s) => [s.name, s.found])).toEqual([
      [SOURCE_NAMES["client-secret"], true],
      [SOURCE_NAMES["workload-identity"], false],
      [SOURCE_NAMES["managed-identity"], false],
      [SOURCE_NAMES["azure-cli"], false],
    ]);
    expect(r.sources[0]!.detail).toBe(
      "client c-1 in tenant t-1, authority https://login.microsoftonline.com, AZURE_CLIENT_SECRET set",
    );
    // A configured source is used alone: IMDS is not even probed.
    expect(source(r, SOURCE_NAMES["managed-identity"]).detail).toEndWith(
      "not probed; not used: environment service principal (AZURE_CLIENT_SECRET) comes first",
    );
    expect(probes).toEqual([]);
  });

  test("workload identity: the token file's path, and whether it can be read; sovereign authority", async () => {
    const file = join(dir, "sa-token");
    writeFileSync(file, makeJwt({ sub: "system:serviceaccount:default:app" }));
    const wi = { AZURE_TENANT_ID: "t-2", AZURE_FEDERATED_TOKEN_FILE: file };
    const r = await describeWith(wi, false, { clientId: "c-2" });
    expect(r.used).toBe(SOURCE_NAMES["workload-identity"]);
    expect(source(r, SOURCE_NAMES["workload-identity"]).detail).toBe(
      `client c-2 in tenant t-2, authority https://login.microsoftonline.com, token file ${file}`,
    );
    const missing = await describeWith({ ...wi, AZURE_FEDERATED_TOKEN_FILE: join(dir, "nope") }, false, { clientId: "c-2" });
    expect(source(missing, SOURCE_NAMES["workload-identity"]).detail).toEndWith("(cannot read it)");

    const chinaCtx = ctxFor(wi);
    const china = await describeAcrIdentity(
      planAcr({ ...target({ clientId: "c-2" }), registry: "r.azurecr.cn", details: matchLoginServer("r.azurecr.cn")! }, chinaCtx),
      chinaCtx,
      { probe: async () => false },
    );
    expect(china.sources.find((s) => s.found)!.detail).toContain("authority https://login.chinacloudapi.cn");
  });

  test("managed identity from the environment (App Service) is used without a probe; its header is not shown", async () => {
    const r = await describeWith({ IDENTITY_ENDPOINT: "http://127.0.0.1:9/msi/token", IDENTITY_HEADER: SECRETS.IDENTITY_HEADER });
    expect(r.used).toBe(SOURCE_NAMES["managed-identity"]);
    expect(source(r, SOURCE_NAMES["managed-identity"]).detail).toBe("system-assigned, App Service endpoint http://127.0.0.1:9");
    expect(probes).toEqual([]);
  });

  test("IMDS is probed at its default address only through the injected probe; a user-assigned client is named", async () => {
    const r = await describeWith({ AZURE_CLIENT_ID: "u-1" }, true);
    expect(probes).toEqual(["http://169.254.169.254"]);
    expect(r.used).toBe(SOURCE_NAMES["managed-identity"]);
    expect(source(r, SOURCE_NAMES["managed-identity"]).detail).toBe(
      "user-assigned u-1, IMDS endpoint http://169.254.169.254 answers",
    );
  });

  test("nothing here: used is null and each source says what is missing", async () => {
    const r = await describeWith({}, false);
    expect(r.used).toBeNull();
    expect(r.sources.every((s) => !s.found)).toBe(true);
    expect(r.sources.map((s) => s.detail)).toEqual([
      "client (AZURE_CLIENT_ID not set) in tenant (AZURE_TENANT_ID not set), authority https://login.microsoftonline.com, AZURE_CLIENT_SECRET not set",
      "AZURE_FEDERATED_TOKEN_FILE not set",
      "system-assigned, IMDS endpoint http://169.254.169.254 does not answer",
      "az not on PATH",
    ]);
  });

  test("the Azure CLI on PATH is used when nothing comes before it, or when AZURE_TOKEN_CREDENTIALS=dev says so", async () => {
    const bin = join(dir, "bin");
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, "az"), "#!/bin/sh\nexit 1\n");
    chmodSync(join(bin, "az"), 0o755);
    const alone = await describeWith({ PATH: bin }, false);
    expect(alone.used).toBe(SOURCE_NAMES["azure-cli"]);
    expect(source(alone, SOURCE_NAMES["azure-cli"]).detail).toBe(join(bin, "az"));

    const dev = await describeWith({ ...SP, PATH: bin, AZURE_TOKEN_CREDENTIALS: "dev" });
    expect(dev.used).toBe(SOURCE_NAMES["azure-cli"]);
    expect(source(dev, SOURCE_NAMES["client-secret"])).toMatchObject({ found: true });
    expect(source(dev, SOURCE_NAMES["client-secret"]).detail).toEndWith("; not used: AZURE_TOKEN_CREDENTIALS=dev");
  });

  test("a registry configured for another client does not use the environment's service principal", async () => {
    const r = await describeWith(SP, true, { clientId: "u-9" });
    expect(r.used).toBe(SOURCE_NAMES["managed-identity"]);
    expect(source(r, SOURCE_NAMES["client-secret"]).detail).toEndWith("; not used: this registry is configured for client u-9");
    expect(source(r, SOURCE_NAMES["managed-identity"]).detail).toStartWith("user-assigned u-9, ");
  });

  test("the real probe, through the provider, against an IMDS stand-in on 127.0.0.1 and a closed port", async () => {
    const imds = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () => Response.json({ error: "bad_request" }, { status: 400 }),
    });
    try {
      const here = await describeVia(provider, target(), ctxFor({ AZURE_POD_IDENTITY_AUTHORITY_HOST: imds.url.origin }));
      expect(here.used).toBe(SOURCE_NAMES["managed-identity"]);
      expect(source(here, SOURCE_NAMES["managed-identity"]).detail).toBe(
        `system-assigned, IMDS endpoint ${imds.url.origin} answers`,
      );
      const closed = `http://127.0.0.1:${await freePort()}`;
      const gone = await describeVia(provider, target(), ctxFor({ AZURE_POD_IDENTITY_AUTHORITY_HOST: closed }));
      expect(gone.used).toBeNull();
    } finally {
      await imds.stop(true);
    }
  });

  test("in service-account mode: the pod's client and tenant, and nothing of the node", async () => {
    const sa = {
      token: makeJwt({ sub: "system:serviceaccount:a:b" }),
      annotations: { "kubernetes.azure.com/acr-client-id": "pc", "kubernetes.azure.com/acr-tenant-id": "pt" },
    };
    const saCtx = ctxFor(SP, sa);
    const r = await describeAcrIdentity(planAcr(target(), saCtx), saCtx, { probe: async () => true });
    expect(r).toEqual({
      sources: [
        {
          name: SOURCE_NAMES["service-account"],
          found: true,
          detail: "client pc in tenant pt, authority https://login.microsoftonline.com",
        },
      ],
      used: SOURCE_NAMES["service-account"],
    });
    expectNoSecret(r);
  });
});

describe("helpText", () => {
  test("names the settings keys, the environment variables and the kubelet annotations, in a few lines", () => {
    const help = provider.manifest.helpText!;
    for (const word of [
      "tenantId",
      "clientId",
      "endpoint",
      "AZURE_TENANT_ID",
      "AZURE_CLIENT_ID",
      "AZURE_CLIENT_SECRET",
      "AZURE_CLIENT_CERTIFICATE_PATH",
      "AZURE_FEDERATED_TOKEN_FILE",
      "AZURE_TOKEN_CREDENTIALS",
      "AZURE_AUTHORITY_HOST",
      "IDENTITY_ENDPOINT",
      "api://AzureADTokenExchange",
      "kubernetes.azure.com/acr-client-id",
      "kubernetes.azure.com/acr-tenant-id",
    ]) {
      expect(help).toContain(word);
    }
    expect(help.split("\n").length).toBeLessThanOrEqual(14);
    for (const line of help.split("\n")) expect(line.length).toBeLessThanOrEqual(120);
  });
});
