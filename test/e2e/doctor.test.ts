// `doctor`: each step reported, exit 0 only when all pass, never the token.

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { ROOT, makeTestEnv, peerTest, runCommand, type TestEnv } from "../support/env.ts";
import { startRegistry, type LocalRegistry } from "../support/registry.ts";
import { startCountingServer, type CountingServer } from "../fixtures/counting-server.ts";
import { checkRegistryAccepts } from "../../src/registry-check.ts";
import { parseServerUrl, type RegistryHost } from "../../src/registry.ts";

const COUNTING = [process.execPath, join(ROOT, "test/fixtures/counting-helper.ts")];
const TOKEN = "doctor-token-0123456789";
const PEERS = ["docker-registry", "htpasswd"];

let server: CountingServer;
let registry: LocalRegistry | null = null;
let t: TestEnv;
beforeAll(async () => {
  server = startCountingServer();
  if (PEERS.every((p) => Bun.which(p))) registry = await startRegistry([{ username: "counter", password: TOKEN }]);
});
afterAll(async () => {
  server.stop();
  await registry?.stop();
});
beforeEach(() => {
  t = makeTestEnv({ COUNTING_URL: server.url });
  server.fixedToken = TOKEN;
  server.calls = 0;
  server.mode = "ok";
});
afterEach(() => t.cleanup());

const doctor = (...args: string[]) => runCommand([...COUNTING, "doctor", ...args], "", t.env);

describe("doctor", () => {
  peerTest(PEERS, "every step passes for a working registry: exit 0, and the token is never shown", async () => {
    t.writeConfig({ registries: { [registry!.host]: { alias: "doc.counting.test" } } });
    const r = await doctor(registry!.host);
    expect(r.stdout).toContain("✔ provider");
    expect(r.stdout).toContain("declared in");
    expect(r.stdout).toContain("✔ token");
    expect(r.stdout).toContain("✔ registry");
    expect(r.stdout).toContain("all checks passed");
    expect(r.exitCode).toBe(0);
    const j = await doctor(registry!.host, "--json");
    const report = JSON.parse(j.stdout);
    expect(report.ok).toBe(true);
    expect(report.steps.map((s: { step: string; status: string }) => `${s.step}:${s.status}`)).toEqual([
      "provider:ok",
      "identity:ok",
      "token:ok",
      "registry:ok",
    ]);
    for (const out of [r.stdout, r.stderr, j.stdout, j.stderr]) expect(out).not.toContain(TOKEN);
  });

  peerTest(PEERS, "a token the registry refuses fails the registry step, exit 1", async () => {
    server.fixedToken = "not-the-registry-password";
    t.writeConfig({ registries: { [registry!.host]: { alias: "doc2.counting.test" } } });
    const r = await doctor(registry!.host, "--json");
    expect(r.exitCode).toBe(1);
    const last = JSON.parse(r.stdout).steps.at(-1);
    expect(last).toMatchObject({ step: "registry", status: "fail" });
    expect(last.detail).toContain("refused");
    expect(last.advice).toBeTruthy();
  });

  test("a host the helper does not serve fails at the provider step with advice", async () => {
    const r = await doctor("nothing.example.com");
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain("✘ provider");
    expect(r.stdout).toContain("→ ");
    expect(server.calls).toBe(0);
  });

  test("a cloud that refuses: the token step fails with the provider's reason", async () => {
    server.mode = "fail";
    const r = await doctor("x.counting.test");
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain("✘ token    Counting test registry: counting server answered HTTP 500");
  });

  test("bad arguments are a usage error", async () => {
    expect((await doctor("a", "b")).exitCode).toBe(1);
    expect((await doctor("--bogus")).stderr).toContain("Usage:");
    expect((await doctor("https://u@evil.com")).stderr).toContain("user information");
  });
});

describe("checkRegistryAccepts with a Bearer-token registry", () => {
  const host = (key: string): RegistryHost => (parseServerUrl(key) as { ok: true; host: RegistryHost }).host;

  test("follows the challenge to a token endpoint on the same host", async () => {
    const seen: string[] = [];
    const fake: ReturnType<typeof Bun.serve> = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req): Response {
        const url = new URL(req.url);
        seen.push(`${url.pathname} ${req.headers.get("authorization")?.split(" ")[0]}`);
        if (url.pathname === "/token") {
          const ok = req.headers.get("authorization") === "Basic " + Buffer.from("u:pw").toString("base64");
          return ok ? Response.json({ token: "registry-token" }) : new Response("no", { status: 401 });
        }
        if (req.headers.get("authorization") === "Bearer registry-token") return new Response("{}");
        return new Response("{}", {
          status: 401,
          headers: { "www-authenticate": `Bearer realm="http://127.0.0.1:${fake.port}/token",service="reg"` },
        });
      },
    });
    try {
      const ok = await checkRegistryAccepts(host(`127.0.0.1:${fake.port}`), "u", "pw", AbortSignal.timeout(5000));
      expect(ok.ok).toBe(true);
      expect(seen).toEqual(["/v2/ Basic", "/token Basic", "/v2/ Bearer"]);
      const bad = await checkRegistryAccepts(host(`127.0.0.1:${fake.port}`), "u", "wrong", AbortSignal.timeout(5000));
      expect(bad).toMatchObject({ ok: false });
      expect(bad.detail).not.toContain("wrong");
    } finally {
      fake.stop(true);
    }
  });

  test("never sends the credential to a token realm on another host", async () => {
    let thief = 0;
    const other = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => (thief++, Response.json({ token: "x" })) });
    const fake = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () =>
        new Response("{}", {
          status: 401,
          headers: { "www-authenticate": `Bearer realm="http://127.0.0.1:${other.port}/token"` },
        }),
    });
    try {
      const r = await checkRegistryAccepts(host(`127.0.0.1:${fake.port}`), "u", "pw", AbortSignal.timeout(5000));
      expect(r.ok).toBe(false);
      expect(r.detail).toContain("another host");
      expect(thief).toBe(0);
    } finally {
      fake.stop(true);
      other.stop(true);
    }
  });
});
