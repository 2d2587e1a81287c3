// The provider test kit: what every cloud's fake offers the shared scenarios
// (herd, faults, kubelet, secret scan), so each scenario is written once and
// run against all four clouds. Each cloud implements `Cloud` once, in
// test/kit/<cloud>.ts, as an adapter over its existing fake. What only one
// cloud has (its other failure modes, its identity rules, its kubelet
// annotations) stays in test/kit/<cloud>/, next to its adapter.
//
// One fault vocabulary for every cloud, applied to the call that hands out the
// registry credential:
//   "500"       the call answers HTTP 500 (every attempt);
//   "slow"      it answers correctly, but only long after any deadline;
//   "silent"    it accepts the request and never answers;
//   "malformed" it answers HTTP 200 with a body that is not a token answer;
//   "expired"   it answers a well-formed token that has already expired.

import { afterAll, afterEach, beforeAll } from "bun:test";
import { readFileSync, readdirSync } from "node:fs";
import { TokenCache, type CacheEntry } from "../../src/cache.ts";
import type { Provider } from "../../src/provider.ts";
import { requireDist, runCommand, runHelper, DIST, type HelperName, type RunResult, type TestEnv } from "../support/env.ts";
import { runAsKubelet } from "../support/kubelet.ts";
import { join } from "node:path";

export type Fault = "500" | "slow" | "silent" | "malformed" | "expired";
export const FAULTS: readonly Fault[] = ["500", "slow", "silent", "malformed", "expired"];

/** The deadline (CCH_TIMEOUT, seconds) of every fault run: short, so "slow" and "silent" cost at most this. */
export const FAULT_DEADLINE_S = 2;
/** The harness kills a run that outlives its deadline by this much: a hang shows as a kill (exit 137), not a wait. */
export const HARNESS_KILL_MS = 20_000;

/** A service account of a pod, trusted by the cloud's fake for its own identity. */
export interface ServiceAccount {
  token: string;
  annotations: Record<string, string>;
}

export interface Cloud {
  name: HelperName;
  provider: Provider;
  /** A registry host the fake serves. */
  host: string;
  /**
   * A private HOME, cache and configuration with the helper environment for
   * this cloud: the fake is the only place an identity or a token comes from
   * (pod mode included), and no call leaves 127.0.0.1.
   */
  env(extra?: Record<string, string>): TestEnv;
  /** Calls that reached the call handing out the registry credential. */
  calls(): number;
  /** Calls to the identity service behind it, per fetch at most one (ACR: Entra ID), when there is one. */
  identityCalls?(): number;
  /** Tokens it handed out, in order. */
  issued(): string[];
  /** Holds each answer this long (a herd arrives while the first fetch is in flight). */
  delay(ms: number): void;
  /** Switches a fault on; null: answers normally again. */
  fault(f: Fault | null): void;
  /** What the one-line error says for each fault. */
  says: Record<Fault, RegExp>;
  /** Every secret of the run the fake knows: tokens issued, client secrets, private keys. */
  secrets(): string[];
  /** Back to normal behaviour, counts forgotten (after every test). */
  reset(): void;
  stop(): Promise<void>;
  pod: {
    /** A pod's service account, trusted by the fake for its own identity (distinct per namespace/name). */
    serviceAccount(namespace: string, name: string, nonce: string): ServiceAccount;
    /** The cloud answers with this token as the registry credential. */
    echo(token: string): void;
    /** Exchanges of a pod's token so far (one per service account on a cold cache). */
    calls(): number;
    /** What `configure kubelet --service-account-tokens` asks kubelet for (its tokenAttributes). */
    tokenAttributes: Record<string, unknown>;
  };
}

export interface CloudStarter {
  name: HelperName;
  start(): Promise<Cloud>;
}

/**
 * One cloud for a describe block: started before its tests, reset after each
 * (environments cleaned up too), stopped after them all. Read `use.cloud` inside tests.
 */
export function useCloud(starter: CloudStarter): { readonly cloud: Cloud; env(extra?: Record<string, string>): TestEnv } {
  let cloud: Cloud | undefined;
  const envs: TestEnv[] = [];
  beforeAll(async () => {
    requireDist();
    cloud = await starter.start();
  });
  afterEach(() => {
    cloud?.reset();
    for (const t of envs.splice(0)) t.cleanup();
  });
  afterAll(async () => {
    await cloud?.stop();
  });
  return {
    get cloud() {
      if (!cloud) throw new Error(`${starter.name}: not started`);
      return cloud;
    },
    env(extra = {}) {
      const t = this.cloud.env(extra);
      envs.push(t);
      return t;
    },
  };
}

/**
 * All four clouds for a file, for scenarios that wait on deadlines: started
 * before the tests, reset after each, stopped after them all. `each(fn)` runs
 * `fn` for every cloud at once (each has its own fakes, so a slow or silent
 * cloud costs one deadline for the four, not four) and fails naming every
 * cloud whose run failed.
 */
export function useClouds(starters: readonly CloudStarter[]): {
  each(fn: (c: Cloud, env: (extra?: Record<string, string>) => TestEnv) => Promise<void>): Promise<void>;
} {
  const uses = starters.map((s) => useCloud(s));
  return {
    async each(fn) {
      const results = await Promise.allSettled(uses.map((u) => fn(u.cloud, (extra) => u.env(extra))));
      const failed = results.flatMap((r, i) =>
        r.status === "rejected"
          ? [`${starters[i]!.name}: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}`]
          : [],
      );
      if (failed.length) throw new Error(failed.join("\n\n"));
    },
  };
}

/** A docker `get` of the cloud's host, killed if it outlives the harness limit. */
export function get(c: Cloud, t: TestEnv, extra: Record<string, string> = {}): Promise<RunResult> {
  return runHelper(c.name, ["get"], c.host, { ...t.env, ...extra }, { timeoutMs: HARNESS_KILL_MS });
}

export function bin(c: Cloud): string {
  return join(DIST, `docker-credential-${c.name}`);
}

/** Kubelet's request for `image`, from a pod with `sa` (null: the node's own pull). */
export function kubeletRequest(image: string, sa: ServiceAccount | null) {
  return {
    kind: "CredentialProviderRequest",
    apiVersion: KUBELET_V1,
    image,
    ...(sa === null ? {} : { serviceAccountToken: sa.token, serviceAccountAnnotations: sa.annotations }),
  };
}
export const KUBELET_V1 = "credentialprovider.kubelet.k8s.io/v1";

export function askAsKubelet(c: Cloud, t: TestEnv, request: object, extra: Record<string, string> = {}): Promise<RunResult> {
  return runAsKubelet([bin(c), "get-credentials"], { ...t.env, ...extra }, request);
}

/** The Secret of a successful docker `get`, failing with the helper's own words otherwise. */
export function secretOf(c: Cloud, r: RunResult): string {
  if (r.exitCode !== 0 || r.stderr !== "") throw new Error(`get failed (${r.exitCode}): ${r.stdout}${r.stderr}`);
  const out = JSON.parse(r.stdout) as { ServerURL: string; Username: string; Secret: string };
  if (out.ServerURL !== c.host || out.Username !== c.provider.manifest.tokenUser) {
    throw new Error(`unexpected answer ${out.ServerURL} ${out.Username}`);
  }
  return out.Secret;
}

export function cached(t: TestEnv): CacheEntry[] {
  return new TokenCache(t.cacheDir).entries();
}

/** Rewrites every cached token's times, as if it had been fetched long ago; returns the entries. */
export function ageCache(t: TestEnv, times: { issuedAgoMs: number; expiresInMs: number }): CacheEntry[] {
  const cache = new TokenCache(t.cacheDir);
  const now = Date.now();
  const entries = cache.entries().map((e) => ({ ...e, issuedAt: now - times.issuedAgoMs, expiresAt: now + times.expiresInMs }));
  for (const e of entries) cache.write(e);
  return entries;
}

/** Lock files in the cache directory. */
export function locks(t: TestEnv): string[] {
  try {
    return readdirSync(t.cacheDir).filter((f) => f.endsWith(".lock"));
  } catch {
    return [];
  }
}

/** The debug log (CCH_LOG) the helper runs of this environment wrote. */
export function debugLog(t: TestEnv): string {
  try {
    return readFileSync(t.env.CCH_LOG!, "utf8");
  } catch {
    return "";
  }
}

export { runCommand };
