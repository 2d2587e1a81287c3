// A fake OKE proxymux, over https with a local CA made by openssl, speaking
// what oci-common's X509FederationClientForOkeWorkloadIdentity sends:
//   POST /resourcePrincipalSessionTokens, Authorization: Bearer <service account token>,
//   {"podKey": "<base64 SPKI of the session public key>"}
//   → base64 of {"token": "ST$<rpst>"}.
// It accepts only the service account tokens it was told about, counts calls
// per token, and trusts each issued RPST's session key at the fake OCIR (as
// OCI's identity service would), so the OCIR fake verifies the final signature.
//
// What this proves and what it does not: see the header of test/kit/oci/kubelet.test.ts.

import { createPublicKey } from "node:crypto";
import { join } from "node:path";
import type { Server } from "bun";
import { mintJwt, type FakeOcir, type Mode } from "./fakes.ts";
import { makeTestCa, type TestCa } from "../support/tls.ts";

/** The cluster CA file (what CCH_OCI_KUBERNETES_CA_FILE names) and the proxymux's certificate for 127.0.0.1. */
export type LocalTls = TestCa;

/** A CA (the "cluster CA") and a server certificate for 127.0.0.1 it signed, in `dir`/`name`. */
export async function makeLocalTls(dir: string, name = "cluster"): Promise<LocalTls> {
  return makeTestCa(join(dir, name));
}

export interface FakeProxymux {
  url: string;
  /** The bearer token of every call, in order (accepted or not). */
  tokens: string[];
  /** RPSTs handed out, in order. */
  issued: string[];
  mode: Mode | { kind: "malformed"; body: string };
  /** Lifetime of the RPSTs it mints, seconds (negative: already expired). */
  rpstLifetime: number;
  /** Service account tokens it accepts, with the workload each stands for. */
  accept(token: string, workload: string): void;
  stop(): Promise<void>;
}

export function startFakeProxymux(ocir: FakeOcir, tls: LocalTls): FakeProxymux {
  const accepted = new Map<string, string>();
  const state = {
    tokens: [] as string[],
    issued: [] as string[],
    mode: { kind: "ok" } as FakeProxymux["mode"],
    rpstLifetime: 3600,
  };
  const server: Server<undefined> = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    tls: { cert: tls.cert, key: tls.key },
    async fetch(req) {
      const url = new URL(req.url);
      if (url.pathname !== "/resourcePrincipalSessionTokens" || req.method !== "POST") {
        return new Response("not found", { status: 404 });
      }
      const bearer = (req.headers.get("authorization") ?? "").replace(/^Bearer /, "");
      state.tokens.push(bearer);
      const mode = state.mode;
      if (mode.kind === "hang") return new Promise<Response>(() => {});
      if (mode.kind === "slow") await Bun.sleep(mode.ms);
      if (mode.kind === "fail") return new Response(mode.body, { status: mode.status });
      if (mode.kind === "malformed") return new Response(mode.body);
      const workload = accepted.get(bearer);
      if (workload === undefined) return new Response("invalid service account token", { status: 401 });
      if (req.headers.get("content-type") !== "application/json") return new Response("content-type", { status: 400 });
      const { podKey } = (await req.json()) as { podKey?: unknown };
      if (typeof podKey !== "string" || !/^[A-Za-z0-9+/=]+$/.test(podKey)) return new Response("podKey", { status: 400 });
      const rpst = mintJwt({
        sub: workload,
        res_tenant: "ocid1.tenancy.oc1..aaaaworkloadtenancy",
        exp: Math.floor(Date.now() / 1000) + state.rpstLifetime,
      });
      state.issued.push(rpst);
      ocir.trust(`ST$${rpst}`, createPublicKey({ key: Buffer.from(podKey, "base64"), format: "der", type: "spki" }));
      return new Response(Buffer.from(JSON.stringify({ token: `ST$${rpst}` })).toString("base64"));
    },
  });
  return Object.assign(state, {
    url: `https://127.0.0.1:${server.port}`,
    accept: (token: string, workload: string) => void accepted.set(token, workload),
    stop: () => server.stop(true),
  });
}
