// Kubelet service-account-token mode, for every cloud: the built binary run
// as kubelet runs it, the answer decoded with kubelet's strict rules. A pod's
// token is exchanged for that pod's own credential; credentials are cached
// per service account (a rotated token of the same one is a cache hit, another
// one is not, the node's own pull is another entry still); the pod's token is
// never handed back as the registry password, even when the cloud echoes it.

import { describe, expect, test } from "bun:test";
import { decodeStrict, kubeletMatches } from "../support/kubelet.ts";
import { CLOUDS } from "./clouds.ts";
import { askAsKubelet, bin, cached, KUBELET_V1, kubeletRequest, runCommand, useCloud, type Cloud } from "./kit.ts";
import type { RunResult } from "../support/env.ts";

function passwordOf(c: Cloud, r: RunResult): string {
  if (r.exitCode !== 0 || r.stderr !== "") throw new Error(`get-credentials failed (${r.exitCode}): ${r.stderr}`);
  return decodeStrict(r.stdout, KUBELET_V1).auth[c.host]!.password;
}

for (const starter of CLOUDS) {
  describe(`${starter.name}: kubelet service-account-token mode`, () => {
    const use = useCloud(starter);

    test("response shape: a pod's credential, keyed by the registry host, cached by kubelet for at most half its life", async () => {
      const c = use.cloud;
      const t = use.env();
      const sa = c.pod.serviceAccount("team-a", "puller", "1");
      const image = `${c.host}/team/app:v1`;
      const r = await askAsKubelet(c, t, kubeletRequest(image, sa));
      expect(r.stderr).toBe("");
      expect(r.exitCode).toBe(0);
      const d = decodeStrict(r.stdout, KUBELET_V1);
      expect(d.cacheKeyType).toBe("Registry");
      expect(Object.keys(d.auth)).toEqual([c.host]);
      expect(kubeletMatches(c.host, image)).toBe(true);
      expect(d.auth[c.host]).toEqual({ username: c.provider.manifest.tokenUser, password: c.issued().at(-1)! });
      expect(d.auth[c.host]!.password).not.toBe(sa.token);
      expect(d.cacheDurationMs!).toBeGreaterThan(0);
      expect(d.cacheDurationMs!).toBeLessThanOrEqual(c.provider.manifest.tokenMaxLifeMs / 2);
      expect(c.pod.calls()).toBe(1);
    });

    test("cached per service account: two get their own credentials, a rotated token is a cache hit, the node's pull is apart", async () => {
      const c = use.cloud;
      const t = use.env();
      const ask = async (sa: ReturnType<Cloud["pod"]["serviceAccount"]> | null, path = "team/app") =>
        passwordOf(c, await askAsKubelet(c, t, kubeletRequest(`${c.host}/${path}`, sa)));
      const alice = c.pod.serviceAccount("team-a", "puller", "1");
      const bob = c.pod.serviceAccount("team-b", "puller", "2");
      const a = await ask(alice);
      const b = await ask(bob);
      expect(a).not.toBe(b);
      expect(c.pod.calls()).toBe(2);
      // The same service account again, its token rotated (kubelet projects a new one per pod and hour).
      const aliceRotated = c.pod.serviceAccount("team-a", "puller", "3");
      expect(await ask(aliceRotated, "other/image")).toBe(a);
      expect(await ask(alice)).toBe(a);
      expect(c.pod.calls()).toBe(2);
      // The node's own pull uses the node's identity and shares nothing with the pods.
      const node = await ask(null);
      expect(new Set([a, b, node]).size).toBe(3);
      expect(c.pod.calls()).toBe(2);
      expect(cached(t)).toHaveLength(3);
      for (const p of [a, b, node]) expect([alice.token, bob.token, aliceRotated.token]).not.toContain(p);
    });

    test("the pod's token is never returned as the password, even when the cloud hands it back; nothing cached", async () => {
      const c = use.cloud;
      const t = use.env();
      const sa = c.pod.serviceAccount("team-a", "puller", "echo");
      c.pod.echo(sa.token);
      const r = await askAsKubelet(c, t, kubeletRequest(`${c.host}/team/app`, sa));
      expect({ exitCode: r.exitCode, stdout: r.stdout }).toEqual({ exitCode: 1, stdout: "" });
      expect(r.stderr).toStartWith(`docker-credential-${c.name}: ${c.provider.manifest.title}: `);
      expect(r.stderr).toMatch(/service account token/);
      expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(r.stderr).not.toContain(sa.token);
      expect(cached(t)).toEqual([]);
    });

    test("configure kubelet --service-account-tokens asks kubelet for the cloud's audience and annotations", async () => {
      const c = use.cloud;
      const t = use.env();
      const r = await runCommand([bin(c), "configure", "kubelet", "--service-account-tokens", "--format", "json"], "", t.env);
      expect(r.exitCode).toBe(0);
      const [entry] = JSON.parse(r.stdout).providers;
      expect(entry.name).toBe(`docker-credential-${c.name}`);
      expect(entry.tokenAttributes).toEqual(c.pod.tokenAttributes);
    });
  });
}
