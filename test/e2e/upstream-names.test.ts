// The binary as a drop-in replacement for the upstream plugins: installed
// with `install --upstream-names`, each name takes that program's arguments,
// configuration file and environment, and kubelet configurations written for
// the upstream binaries (the container-image CSI driver guide's among them)
// work unchanged, through the kubelet conformance harness and each cloud's fake.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DIST, runCommand } from "../support/env.ts";
import { decodeStrict, pullWithConfig, runAsKubelet } from "../support/kubelet.ts";
import { validateCredentialProviderConfig, NEWEST } from "../support/kubelet-config.ts";
import { HOST as ECR_HOST, useFakeAws } from "../ecr/support.ts";
import { LOGIN as ACR_LOGIN, acrTestEnv, managedIdentityEnv, servicePrincipalEnv, useWorld } from "../acr/support/setup.ts";
import { CLIENT_ID, CLIENT_SECRET, TENANT } from "../acr/support/fakes.ts";
import { makeGcrEnv } from "../gcr/support.ts";
import { startFakeMetadataServer, type FakeMetadataServer } from "../gcr/fakes.ts";
import { setupOci, type OciTest } from "../oci/setup.ts";
import { UPSTREAM_NAMES } from "../../src/upstream/index.ts";
import { registryMirror } from "../../src/upstream/acr-credential-provider.ts";
import { parseFlags } from "../../src/upstream/flags.ts";

const V1 = "credentialprovider.kubelet.k8s.io/v1";
const request = (image: string) => ({ kind: "CredentialProviderRequest", apiVersion: V1, image });
let binDir: string;
let root: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "cch-upstream-"));
  binDir = join(root, "bin");
  const r = await runCommand([join(DIST, "docker-credential-ecr-login"), "install", "--bin-dir", binDir, "--upstream-names"], "", {
    PATH: "/usr/bin:/bin",
    HOME: root,
  });
  if (r.exitCode !== 0) throw new Error(`install --upstream-names failed: ${r.stderr}`);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
const up = (name: string) => join(binDir, name);

test("install --upstream-names hardlinks every upstream name to the one executable", () => {
  const ino = statSync(up("docker-credential-ecr-login")).ino;
  expect(UPSTREAM_NAMES).toEqual([
    "ecr-credential-provider",
    "acr-credential-provider",
    "auth-provider-gcp",
    "gcp-credential-provider",
    "credential-provider-oke",
    "oke-credential-provider",
    "docker-credential-acr-env",
  ]);
  for (const name of UPSTREAM_NAMES) expect({ name, ino: statSync(up(name)).ino }).toEqual({ name, ino });
  expect(UPSTREAM_NAMES).not.toContain("docker-credential-gcloud");
});

describe("ecr-credential-provider (cloud-provider-aws)", () => {
  const aws = useFakeAws();
  // The container-image CSI driver guide's two ECR configurations, as printed there.
  const csiEcr = {
    apiVersion: "kubelet.config.k8s.io/v1",
    kind: "CredentialProviderConfig",
    providers: [
      {
        name: "ecr-credential-provider",
        matchImages: ["*.dkr.ecr.*.amazonaws.com", "*.dkr.ecr.*.amazonaws.com.cn", "*.dkr.ecr-fips.*.amazonaws.com", "public.ecr.aws"],
        defaultCacheDuration: "12h",
        apiVersion: V1,
      },
    ],
  };
  const csiDockerHelper = {
    apiVersion: "kubelet.config.k8s.io/v1",
    kind: "CredentialProviderConfig",
    providers: [{ name: "docker-credential-ecr-login", matchImages: ["*.dkr.ecr.*.amazonaws.com"], defaultCacheDuration: "12h", apiVersion: V1 }],
  };

  test("the CSI guide's configurations work unchanged after swapping the binary", async () => {
    for (const config of [csiEcr, csiDockerHelper]) {
      expect(validateCredentialProviderConfig(config, NEWEST)).toEqual([]);
      const t = aws.env();
      const [answer, ...more] = await pullWithConfig(config, binDir, `${ECR_HOST}/team/app`, t.env);
      expect(more).toHaveLength(0);
      expect(answer!.result.stderr).toBe("");
      expect(answer!.decoded!.auth[ECR_HOST]!.username).toBe("AWS");
      expect(answer!.decoded!.cacheDurationMs!).toBeGreaterThan(0);
    }
  });

  test("the guide's hand test: {\"image\": …} piped to `get` prints a CredentialProviderResponse", async () => {
    const t = aws.env();
    for (const argv of [[up("ecr-credential-provider"), "get"], [up("docker-credential-ecr-login"), "get"], [up("docker-credential-ecr-login")]]) {
      const r = await runCommand(argv, JSON.stringify({ image: `${ECR_HOST}/my-image` }) + "\n", t.env);
      expect({ argv: argv.slice(1), code: r.exitCode, stderr: r.stderr }).toEqual({ argv: argv.slice(1), code: 0, stderr: "" });
      const d = decodeStrict(r.stdout, V1);
      expect(Object.keys(d.auth)).toEqual([ECR_HOST]);
    }
  });

  test("takes get-credentials and klog's --v; --v=4 and up logs to stderr without secrets; an unknown flag is one line", async () => {
    const t = aws.env();
    const quiet = await runAsKubelet([up("ecr-credential-provider"), "get-credentials", "--v=2"], t.env, request(`${ECR_HOST}/a`));
    expect(quiet.exitCode).toBe(0);
    expect(quiet.stderr).toBe("");
    const loud = await runAsKubelet([up("ecr-credential-provider"), "-v", "5"], { ...t.env, CCH_DISABLE_CACHE: "true" }, request(`${ECR_HOST}/a`));
    expect(loud.exitCode).toBe(0);
    expect(loud.stderr.length).toBeGreaterThan(0);
    expect(loud.stderr).not.toContain(decodeStrict(loud.stdout, V1).auth[ECR_HOST]!.password);
    const bad = await runAsKubelet([up("ecr-credential-provider"), "--bogus"], t.env, request(`${ECR_HOST}/a`));
    expect(bad.exitCode).toBe(1);
    expect(bad.stdout).toBe("");
    expect(bad.stderr.trim().split("\n")).toEqual(["ecr-credential-provider: unknown flag --bogus"]);
  });
});

describe("acr-credential-provider (cloud-provider-azure) with azure.json", () => {
  const { w, track } = useWorld();
  let files = 0;
  const azureJson = (dir: string, content: object) => {
    const file = join(dir, `azure-${++files}.json`);
    writeFileSync(file, JSON.stringify(content), { mode: 0o600 });
    return file;
  };
  const config = (file: string, extraArgs: string[] = []) => ({
    providers: [{ name: "acr-credential-provider", matchImages: ["*.azurecr.io"], apiVersion: V1, args: [file, ...extraArgs] }],
  });

  test("a service principal from aadClientId/aadClientSecret/tenantId (not from the environment)", async () => {
    const env = servicePrincipalEnv(w);
    for (const k of ["AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID"]) delete env[k];
    const t = track(acrTestEnv(w, env));
    const file = azureJson(t.dir, { cloud: "AzurePublicCloud", tenantId: TENANT, aadClientId: CLIENT_ID, aadClientSecret: CLIENT_SECRET });
    const [a] = await pullWithConfig(config(file, ["--v=2"]), binDir, `${ACR_LOGIN}/team/app`, t.env);
    expect(a!.result.stderr).toBe("");
    expect(a!.decoded!.auth[ACR_LOGIN]!.username).toBe("00000000-0000-0000-0000-000000000000");
    expect(w.entra.byClient[CLIENT_ID]).toBe(1);
    expect(w.entra.lastUsedSecret).toBe(true);
  });

  test("useManagedIdentityExtension with userAssignedIdentityID: managed identity only, that client id", async () => {
    const t = track(acrTestEnv(w, { ...managedIdentityEnv(w), AZURE_CLIENT_SECRET: "must-not-be-used", AZURE_CLIENT_ID: "x", AZURE_TENANT_ID: TENANT }));
    const file = azureJson(t.dir, { useManagedIdentityExtension: true, userAssignedIdentityID: CLIENT_ID, tenantId: TENANT });
    const [a] = await pullWithConfig(config(file), binDir, `${ACR_LOGIN}/team/app`, t.env);
    expect(a!.result.stderr).toBe("");
    expect(a!.decoded!.auth[ACR_LOGIN]).toBeDefined();
    expect(w.mi.total()).toBeGreaterThan(0);
    expect(w.mi.lastClientId).toBe(CLIENT_ID);
    expect(w.entra.total()).toBe(0);
  });

  test("bad or missing configuration: exit 1, one line naming the file; nothing reaches the cloud", async () => {
    const t = track(acrTestEnv(w, servicePrincipalEnv(w)));
    const cases: Array<[string[], string]> = [
      [[], "expected exactly one argument"],
      [[join(t.dir, "missing.json")], "cannot read the Azure configuration file"],
      [[azureJson(t.dir, { aadClientId: CLIENT_ID })], "aadClientSecret"],
      [[azureJson(t.dir, { cloud: "AzureStackCloud", useManagedIdentityExtension: true })], 'cloud "AzureStackCloud" is not supported'],
      [[azureJson(t.dir, { useManagedIdentityExtension: true, userAssignedIdentityID: "/subscriptions/x/resourceGroups/y" })], "resource ID"],
      [[azureJson(t.dir, { useManagedIdentityExtension: true }), "--registry-mirror", "nocolon"], "invalid --registry-mirror"],
    ];
    for (const [args, message] of cases) {
      const r = await runAsKubelet([up("acr-credential-provider"), ...args], t.env, request(`${ACR_LOGIN}/a`));
      expect({ args, code: r.exitCode, stdout: r.stdout }).toEqual({ args, code: 1, stdout: "" });
      expect(r.stderr).toContain(message);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).not.toContain(CLIENT_SECRET);
    }
    expect(w.entra.total() + w.mi.total() + w.acr.total()).toBe(0);
  });

  test("--registry-mirror SOURCE:TARGET,… becomes aliases of SOURCE for TARGET, as upstream splits it", () => {
    expect(registryMirror("mcr.microsoft.com:myreg.azurecr.io, docker.io:other.azurecr.io")).toEqual({
      "mcr.microsoft.com": "myreg.azurecr.io",
      "docker.io": "other.azurecr.io",
    });
    expect(registryMirror("")).toEqual({});
    expect(registryMirror("a:b:c")).toContain("invalid --registry-mirror");
  });

  test("docker-credential-acr-env (kaniko) answers the Docker protocol from the environment's identity", async () => {
    const t = track(acrTestEnv(w, servicePrincipalEnv(w)));
    const r = await runCommand([up("docker-credential-acr-env"), "get"], ACR_LOGIN, t.env);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ServerURL: ACR_LOGIN, Username: "00000000-0000-0000-0000-000000000000" });
  });
});

describe("auth-provider-gcp / gcp-credential-provider (cloud-provider-gcp)", () => {
  let md: FakeMetadataServer;
  beforeAll(() => {
    md = startFakeMetadataServer();
  });
  afterAll(() => md.stop());

  test("get-credentials with --v and --authFlow=gcr answers with the node's token, under both names", async () => {
    const t = makeGcrEnv({ GCE_METADATA_HOST: md.host });
    try {
      for (const [name, args] of [
        ["auth-provider-gcp", ["get-credentials", "--v=3"]],
        ["auth-provider-gcp", ["get-credentials", "--authFlow=gcr"]],
        ["gcp-credential-provider", ["get-credentials", "-a", "gcr", "--v", "2"]],
      ] as const) {
        const config = { providers: [{ name, matchImages: ["gcr.io", "*.gcr.io", "*.pkg.dev"], apiVersion: V1, args: [...args] }] };
        const [a] = await pullWithConfig(config, binDir, "gcr.io/proj/app", t.env);
        expect({ name, args, stderr: a!.result.stderr }).toEqual({ name, args, stderr: "" });
        expect(a!.decoded!.auth["gcr.io"]!.username).toBe("oauth2accesstoken");
      }
    } finally {
      t.cleanup();
    }
  });

  test("its other auth flows and a missing subcommand are refused in one line", async () => {
    const t = makeGcrEnv({ GCE_METADATA_HOST: md.host });
    try {
      for (const [args, message] of [
        [["get-credentials", "--authFlow=dockercfg"], "not supported by this replacement"],
        [["get-credentials", "--authFlow=nope"], 'invalid value "nope" for authFlow'],
        [[], "expected get-credentials"],
      ] as const) {
        const r = await runAsKubelet([up("auth-provider-gcp"), ...args], t.env, request("gcr.io/proj/app"));
        expect({ args, code: r.exitCode, stdout: r.stdout }).toEqual({ args, code: 1, stdout: "" });
        expect(r.stderr).toContain(message);
      }
    } finally {
      t.cleanup();
    }
  });
});

describe("credential-provider-oke / oke-credential-provider (Oracle)", () => {
  let o: OciTest;
  beforeAll(() => {
    o = setupOci();
  });
  afterAll(() => o.cleanup());

  test("-config FILE (Go flag syntax) with upstream's YAML keys; USER_PRINCIPAL signs with the API key", async () => {
    const file = join(o.t.dir, "oke.yaml");
    writeFileSync(
      file,
      "registryTokenPath: /20180419/docker/token\ndefaultUser: BEARER_TOKEN\nregistryProtocol: https\nocirAuthMethod: USER_PRINCIPAL\ntokenValidation: enabled\n",
    );
    for (const args of [["-config", file], [`--config=${file}`], ["-config=" + file]]) {
      const config = { providers: [{ name: "credential-provider-oke", matchImages: ["*.ocir.io"], apiVersion: V1, args }] };
      const [a] = await pullWithConfig(config, binDir, "iad.ocir.io/ns/app", { ...o.t.env, CCH_DISABLE_CACHE: "true" });
      expect({ args, stderr: a!.result.stderr }).toEqual({ args, stderr: "" });
      expect(a!.decoded!.auth["iad.ocir.io"]!.username).toBe("BEARER_TOKEN");
      expect(o.ocir.issued).toContain(a!.decoded!.auth["iad.ocir.io"]!.password);
    }
  });

  test("the environment of upstream's example kubelet configuration, under the OKE guide's name", async () => {
    const config = {
      providers: [
        {
          name: "oke-credential-provider",
          matchImages: ["*.ocir.io"],
          apiVersion: V1,
          env: [
            { name: "REGISTRY_TOKEN_PATH", value: "/20180419/docker/token" },
            { name: "DEFAULT_USER", value: "BEARER_TOKEN" },
            { name: "REGISTRY_PROTOCOL", value: "https" },
            { name: "OCIR_AUTH_METHOD", value: "USER_PRINCIPAL" },
            { name: "TOKEN_VALIDATION", value: "disabled" },
          ],
        },
      ],
    };
    const [a] = await pullWithConfig(config, binDir, "iad.ocir.io/ns/app", o.t.env);
    expect(a!.result.stderr).toBe("");
    expect(a!.decoded!.auth["iad.ocir.io"]!.username).toBe("BEARER_TOKEN");
  });

  test("values it cannot honour are refused in one line, not ignored", async () => {
    const bad = join(o.t.dir, "bad.yaml");
    for (const [yaml, message] of [
      ["registryProtocol: http\n", "not supported"],
      ["registryTokenPath: /v2/token\n", "must be /20180419/docker/token"],
      ["ocirAuthMethod: MAGIC\n", "INSTANCE_PRINCIPAL or USER_PRINCIPAL"],
      ["unknownKey: 1\n", 'unknown key "unknownKey"'],
      ["- a\n", "expected a mapping"],
    ] as const) {
      writeFileSync(bad, yaml);
      const r = await runAsKubelet([up("credential-provider-oke"), "-config", bad], o.t.env, request("iad.ocir.io/ns/app"));
      expect({ yaml, code: r.exitCode, stdout: r.stdout }).toEqual({ yaml, code: 1, stdout: "" });
      expect(r.stderr).toContain(message);
    }
    const noValue = await runAsKubelet([up("credential-provider-oke"), "-config"], o.t.env, request("iad.ocir.io/ns/app"));
    expect(noValue.stderr).toContain("flag needs an argument");
  });
});

test("Go flag syntax: -name value, -name=value, --name value, booleans, and unknown flags", () => {
  const spec = { values: { config: "config" }, booleans: { logtostderr: "logtostderr" } };
  expect(parseFlags(["-config", "a", "x"], spec)).toEqual({ flags: new Map([["config", "a"]]), positional: ["x"] });
  expect(parseFlags(["--config=b", "-logtostderr"], spec)).toEqual({
    flags: new Map([
      ["config", "b"],
      ["logtostderr", "true"],
    ]),
    positional: [],
  });
  expect(parseFlags(["-nope"], spec)).toBe("unknown flag -nope");
  expect(parseFlags(["--", "-config"], spec)).toEqual({ flags: new Map(), positional: ["-config"] });
});
