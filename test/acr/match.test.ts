// Which hosts the ACR provider serves, and that its kubelet globs cover
// exactly those (REFERENCE.md §4, §6).

import { describe, expect, test } from "bun:test";
import { provider } from "../../src/providers/acr.ts";
import { KUBELET_MATCH_IMAGES, matchLoginServer } from "../../src/providers/acr/hosts.ts";
import { parseServerUrl } from "../../src/registry.ts";
import { kubeletMatches } from "../support/kubelet.ts";

const ACCEPTED: Array<[string, ReturnType<typeof matchLoginServer>]> = [
  ["myregistry.azurecr.io", { name: "myregistry", region: null, cloud: "public" }],
  ["myregistry.azurecr.cn", { name: "myregistry", region: null, cloud: "china" }],
  ["myregistry.azurecr.us", { name: "myregistry", region: null, cloud: "usgov" }],
  ["myregistry.azurecr.de", { name: "myregistry", region: null, cloud: "germany" }],
  ["myregistry-abh4cxd3e5f6g7h8.azurecr.io", { name: "myregistry-abh4cxd3e5f6g7h8", region: null, cloud: "public" }],
  ["myregistry.westeurope.geo.azurecr.io", { name: "myregistry", region: "westeurope", cloud: "public" }],
  ["myregistry-abc.eastus2.geo.azurecr.io", { name: "myregistry-abc", region: "eastus2", cloud: "public" }],
  ["myregistry.chinaeast2.geo.azurecr.cn", { name: "myregistry", region: "chinaeast2", cloud: "china" }],
  ["myregistry.usgovvirginia.geo.azurecr.us", { name: "myregistry", region: "usgovvirginia", cloud: "usgov" }],
  ["123registry.azurecr.io", { name: "123registry", region: null, cloud: "public" }],
];

const REJECTED = [
  "x.azurecr.io.evil.com",
  "xazurecr.io",
  "azurecr.io",
  ".azurecr.io",
  "myregistry.westeurope.data.azurecr.io",
  "myregistry.data.azurecr.io",
  "myregistry.geo.azurecr.io",
  "a.b.c.geo.azurecr.io",
  "my-reg-istry.azurecr.io",
  "-myregistry.azurecr.io",
  "myregistry-.azurecr.io",
  "my_registry.azurecr.io",
  "myregistry.azurecr.com",
  "myregistry.azurecr.io.",
  "myregistry.germanycentral.geo.azurecr.de",
  "myregistry.chinaeast2.data.azurecr.cn",
  "evilazurecr.io",
  "myregistry.azurecr.iox",
  "a".repeat(51) + ".azurecr.io",
];

describe("matchLoginServer", () => {
  for (const [host, expected] of ACCEPTED) test(`accepts ${host}`, () => expect(matchLoginServer(host)).toEqual(expected));
  for (const host of REJECTED) test(`refuses ${host}`, () => expect(matchLoginServer(host)).toBeNull());

  test("userinfo and path tricks never reach a match with the ACR host", () => {
    for (const input of [
      "https://myregistry.azurecr.io@evil.com",
      "https://evil.com/myregistry.azurecr.io",
      "evil.com#.azurecr.io",
    ]) {
      const parsed = parseServerUrl(input);
      if (parsed.ok) expect(provider.match(parsed.host.hostname)).toBeNull();
    }
  });
});

describe("kubeletMatchImages", () => {
  test("the provider declares them", () => {
    expect(provider.manifest.kubeletMatchImages).toEqual([...KUBELET_MATCH_IMAGES]);
  });
  test("cover every host match accepts", () => {
    for (const [host] of ACCEPTED)
      expect({ host, covered: KUBELET_MATCH_IMAGES.some((g) => kubeletMatches(g, host)) }).toEqual({ host, covered: true });
  });
  test("do not cover data endpoints", () => {
    for (const host of [
      "myregistry.westeurope.data.azurecr.io",
      "myregistry.data.azurecr.io",
      "myregistry.chinaeast2.data.azurecr.cn",
    ]) {
      expect(KUBELET_MATCH_IMAGES.some((g) => kubeletMatches(g, host))).toBe(false);
    }
  });
  test("every glob is anchored on an ACR suffix", () => {
    for (const g of KUBELET_MATCH_IMAGES) expect(g).toMatch(/^(\*\.)+(geo\.)?azurecr\.(io|cn|us|de)$/);
  });
});

test("settingsKeys declares the per-registry settings", () => {
  expect([...(provider.manifest.settingsKeys ?? [])].sort()).toEqual(["clientId", "endpoint", "tenantId"]);
});
