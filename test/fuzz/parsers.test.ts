// Property and fuzz tests of every parser: no crash, no hang, and the
// invariants the rest of the code relies on. Seeds are fixed so failures reproduce.

import { describe, expect, test } from "bun:test";
import { parseServerUrl, isHostname } from "../../src/registry.ts";
import { imageHost, parseKubeletRequest } from "../../src/protocol/kubelet.ts";
import { parseStoreInput } from "../../src/protocol/docker.ts";
import { parseStoreFile } from "../../src/store.ts";
import { parseCacheEntry } from "../../src/cache.ts";
import { ConfigError, parseConfig } from "../../src/config.ts";
import { HOST_ALPHABET, rng } from "../support/random.ts";

const ROUNDS = 20_000;

function mutate(r: ReturnType<typeof rng>, text: string): string {
  const ops = [
    () => text + r.string(6, HOST_ALPHABET),
    () => r.string(6, HOST_ALPHABET) + text,
    () => {
      const i = r.int(text.length + 1);
      return text.slice(0, i) + r.string(3, HOST_ALPHABET) + text.slice(i);
    },
    () => {
      const i = r.int(text.length);
      return text.slice(0, i) + text.slice(i + 1);
    },
    () => text.toUpperCase(),
    () => text.repeat(1 + r.int(4)),
    () => `https://${text}/v2/`,
    () =>
      `${r.pick(["", "http://", "https://", "ftp://", "//"])}${r.pick(["", "user@", "a:b@"])}${text}${r.pick(["", ":443", ":0", ":65536", "/x", "?q", "#f", "."])}`,
  ];
  return r.pick(ops)();
}

const SEEDS = [
  "gcr.io",
  "https://index.docker.io/v1/",
  "123456789012.dkr.ecr.us-east-1.amazonaws.com",
  "myreg.azurecr.io",
  "iad.ocir.io",
  "127.0.0.1:5000",
  "[::1]:5000",
  "europe-west1-docker.pkg.dev",
];

describe("fuzz: server URLs", () => {
  test(`parseServerUrl never throws, and every accepted key is a plain, stable host (${ROUNDS} inputs)`, () => {
    const r = rng(1);
    for (let i = 0; i < ROUNDS; i++) {
      const input = i % 3 === 0 ? r.string(40, HOST_ALPHABET) : mutate(r, r.pick(SEEDS));
      const out = parseServerUrl(input);
      if (!out.ok) continue;
      const { key, hostname, port } = out.host;
      const why = `input ${JSON.stringify(input)} (seed 1, round ${i})`;
      expect({ why, bad: /[@/\\\s%#?A-Z]/.test(key) }).toEqual({ why, bad: false });
      expect({ why, ok: hostname.startsWith("[") || isHostname(hostname) }).toEqual({ why, ok: true });
      expect(key).toBe(port === null ? hostname : `${hostname}:${port}`);
      // Normalising is idempotent: the key parses back to itself.
      const again = parseServerUrl(key);
      expect(again.ok && again.host.key).toBe(key);
    }
  });

  test("pathological lengths answer quickly (no regex blow-up)", () => {
    for (const input of ["a".repeat(100_000), "a.".repeat(50_000), "-".repeat(100_000), "[" + ":".repeat(100_000)]) {
      expect(parseServerUrl(input).ok).toBe(false);
      expect(typeof imageHost(input + "/x").ok).toBe("boolean");
    }
  });
});

describe("fuzz: image references", () => {
  test("imageHost never throws; an accepted host is what parseServerUrl accepts", () => {
    const r = rng(2);
    const images = ["nginx", "library/nginx:1", "gcr.io/p/i@sha256:" + "a".repeat(64), "127.0.0.1:5000/a/b:c", "localhost/x"];
    for (let i = 0; i < ROUNDS; i++) {
      const input = i % 3 === 0 ? r.string(50, HOST_ALPHABET) : mutate(r, r.pick(images));
      const out = imageHost(input);
      if (out.ok) {
        const same = parseServerUrl(out.host.key);
        expect(same.ok && same.host.key).toBe(out.host.key);
      }
    }
  });
});

describe("fuzz: JSON inputs", () => {
  const jsonish = (r: ReturnType<typeof rng>): string => {
    const values = [
      '"x"',
      "1",
      "null",
      "true",
      "[]",
      "{}",
      '"' + r.string(5, HOST_ALPHABET).replace(/["\\\n\t\u0000]/g, "") + '"',
    ];
    const keys = [
      "ServerURL",
      "serverurl",
      "Username",
      "Secret",
      "kind",
      "apiVersion",
      "image",
      "serviceAccountToken",
      "serviceAccountAnnotations",
      "version",
      "credentials",
      "registries",
      "alias",
      "timeoutSeconds",
      "v",
      "key",
      "expiresAt",
    ];
    const n = r.int(6);
    const parts: string[] = [];
    for (let i = 0; i < n; i++)
      parts.push(`"${r.pick(keys)}":${r.next() < 0.2 ? `{${`"${r.pick(keys)}":${r.pick(values)}`}}` : r.pick(values)}`);
    const text = `{${parts.join(",")}}`;
    return r.next() < 0.2 ? text.slice(0, r.int(text.length)) : text;
  };

  test("store, kubelet request, store file, cache entry and configuration parsers never crash", () => {
    const r = rng(3);
    for (let i = 0; i < ROUNDS; i++) {
      const text = i % 4 === 0 ? r.string(60) : jsonish(r);
      const store = parseStoreInput(text);
      if (store.ok) expect(store.credentials.ServerURL.length).toBeGreaterThan(0);
      const kubelet = parseKubeletRequest(text);
      if (kubelet.ok) expect(kubelet.request.image.length).toBeGreaterThan(0);
      const parsedStore = parseStoreFile(text);
      if (parsedStore.ok) expect(typeof parsedStore.file.credentials).toBe("object");
      else expect(parsedStore.reason).not.toContain("\n");
      const entry = parseCacheEntry(text);
      if (entry) expect(Number.isFinite(entry.expiresAt)).toBe(true);
      try {
        parseConfig(text, "/fuzz.json");
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
      }
    }
  });
});
