// Local fakes of the OCI services the OCIR provider talks to, on 127.0.0.1
// with port 0. Each counts its calls and can be told to fail or to hang.
//
// - OCIR token endpoint: VERIFIES the OCI HTTP signature (draft-cavage,
//   rsa-sha256, headers "x-date|date (request-target) host") against the public
//   half of a registered key, and refuses anything else with 401.
// - Instance metadata: instance/region, identity/{cert,key,intermediate}.pem,
//   with a leaf certificate whose subject holds opc-tenant:<ocid>.
// - Federation (auth service): POST /v1/x509 → a JWT with a future exp; the
//   session public key it receives becomes the key of `ST$<jwt>` at the token endpoint.

import { createHash, createPublicKey, generateKeyPairSync, verify, type KeyObject } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Server } from "bun";

export type Mode =
  | { kind: "ok" }
  | { kind: "fail"; status: number; body: string }
  | { kind: "hang" }
  /** Answers normally, after `ms`. */
  | { kind: "slow"; ms: number };

export interface ApiKey {
  tenancy: string;
  user: string;
  fingerprint: string;
  keyId: string;
  privatePem: string;
  publicKey: KeyObject;
  keyFile: string;
}

/** A fresh RSA API key written to `dir`, as `oci setup keys` would. */
export function makeApiKey(dir: string, user = "ocid1.user.oc1..aaaatestuser"): ApiKey {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const privatePem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const der = publicKey.export({ type: "spki", format: "der" });
  const fingerprint = createHash("md5").update(der).digest("hex").match(/../g)!.join(":");
  const tenancy = "ocid1.tenancy.oc1..aaaatesttenancy";
  mkdirSync(dir, { recursive: true });
  const keyFile = join(dir, `key-${fingerprint.slice(0, 5).replace(":", "")}.pem`);
  writeFileSync(keyFile, privatePem, { mode: 0o600 });
  return { tenancy, user, fingerprint, keyId: `${tenancy}/${user}/${fingerprint}`, privatePem, publicKey, keyFile };
}

/** An ~/.oci/config-style file with one profile per entry. */
export function writeOciConfig(path: string, profiles: Record<string, Record<string, string>>): void {
  const text = Object.entries(profiles)
    .map(([name, values]) => [`[${name}]`, ...Object.entries(values).map(([k, v]) => `${k}=${v}`)].join("\n"))
    .join("\n\n");
  writeFileSync(path, text + "\n", { mode: 0o600 });
}

export function apiKeyProfile(key: ApiKey): Record<string, string> {
  return { user: key.user, fingerprint: key.fingerprint, tenancy: key.tenancy, region: "us-ashburn-1", key_file: key.keyFile };
}

interface Counting {
  server: Server<undefined>;
  url: string;
  mode: Mode;
  stop(): Promise<void>;
}

const OK: Mode = { kind: "ok" };

function hangForever(): Promise<Response> {
  return new Promise(() => {});
}

/** The response a failure mode dictates, or null to answer normally (after the delay of a slow mode). */
async function failResponse(mode: Mode): Promise<Response | null> {
  if (mode.kind === "hang") return hangForever();
  if (mode.kind === "slow") {
    await Bun.sleep(mode.ms);
    return null;
  }
  if (mode.kind === "fail")
    return new Response(mode.body, { status: mode.status, headers: { "content-type": "application/json" } });
  return null;
}

export interface TokenCall {
  keyId: string | null;
  verified: boolean;
  reason: string;
}

export interface FakeOcir extends Counting {
  /** Every request to the token path, in order. */
  calls: TokenCall[];
  /** Tokens handed out, in order. */
  issued: string[];
  expiresIn: number;
  /** When set, the token every successful call hands out (an e2e registry's htpasswd must know it). */
  fixedToken: string | null;
  trust(keyId: string, publicKey: KeyObject): void;
  /** Checks a request's OCI signature against the keys this fake trusts (for other fakes of the same realm). */
  verify(req: Request, url: URL): TokenCall;
}

const SIGNATURE_PARAM = /([a-zA-Z]+)="([^"]*)"/g;

export function startFakeOcir(): FakeOcir {
  const keys = new Map<string, KeyObject>();
  const state = {
    calls: [] as TokenCall[],
    issued: [] as string[],
    expiresIn: 3600,
    fixedToken: null as string | null,
    mode: OK as Mode,
  };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      if (url.pathname !== "/20180419/docker/token") return new Response("not found", { status: 404 });
      const check = checkSignature(req, url, keys);
      state.calls.push(check);
      const failure = await failResponse(state.mode);
      if (failure) return failure;
      if (!check.verified) {
        return Response.json({ code: "NotAuthenticated", message: `signature: ${check.reason}` }, { status: 401 });
      }
      const token = state.fixedToken ?? `ocir-token-${state.issued.length + 1}-${crypto.randomUUID()}`;
      state.issued.push(token);
      return Response.json({ token, access_token: token, scope: "", expires_in: state.expiresIn });
    },
  });
  return Object.assign(state, {
    server,
    url: `http://127.0.0.1:${server.port}`,
    trust: (keyId: string, key: KeyObject) => void keys.set(keyId, key),
    verify: (req: Request, url: URL) => checkSignature(req, url, keys),
    stop: () => server.stop(true),
  });
}

/** draft-cavage HTTP signature as OCI uses it. */
function checkSignature(req: Request, url: URL, keys: Map<string, KeyObject>): TokenCall {
  const auth = req.headers.get("authorization") ?? "";
  if (!auth.startsWith("Signature ")) return { keyId: null, verified: false, reason: "no Signature authorization" };
  const params = new Map<string, string>();
  for (const m of auth.slice("Signature ".length).matchAll(SIGNATURE_PARAM)) params.set(m[1]!, m[2]!);
  const keyId = params.get("keyId") ?? null;
  const no = (reason: string): TokenCall => ({ keyId, verified: false, reason });
  if (params.get("algorithm") !== "rsa-sha256") return no("algorithm is not rsa-sha256");
  const headers = (params.get("headers") ?? "").split(" ");
  if (!headers.includes("(request-target)") || !headers.includes("host")) return no("(request-target) or host not signed");
  if (!headers.includes("date") && !headers.includes("x-date")) return no("no date signed");
  const lines: string[] = [];
  for (const h of headers) {
    if (h === "(request-target)") lines.push(`(request-target): ${req.method.toLowerCase()} ${url.pathname}${url.search}`);
    else {
      const v = req.headers.get(h);
      if (v === null) return no(`signed header ${h} missing`);
      lines.push(`${h.toLowerCase()}: ${v}`);
    }
  }
  const date = Date.parse(req.headers.get("x-date") ?? req.headers.get("date") ?? "");
  if (!(Math.abs(Date.now() - date) < 5 * 60_000)) return no("date too far from now");
  const key = keyId === null ? undefined : keys.get(keyId);
  if (!key) return no("unknown keyId");
  const ok = verify("sha256", Buffer.from(lines.join("\n")), key, Buffer.from(params.get("signature") ?? "", "base64"));
  return ok ? { keyId, verified: true, reason: "" } : no("does not verify");
}

export interface InstanceIdentity {
  tenancy: string;
  certPem: string;
  keyPem: string;
  intermediatePem: string;
}

/** An intermediate CA and a leaf certificate with opc-tenant:<ocid> in its subject, made by openssl in `dir`. */
export async function makeInstanceIdentity(dir: string): Promise<InstanceIdentity> {
  mkdirSync(dir, { recursive: true });
  const tenancy = "ocid1.tenancy.oc1..aaaainstancetenancy";
  const run = async (args: string[]) => {
    const p = Bun.spawn(["openssl", ...args], { cwd: dir, stdout: "pipe", stderr: "pipe" });
    if ((await p.exited) !== 0) throw new Error(`openssl ${args[0]} failed: ${await new Response(p.stderr).text()}`);
  };
  await run([
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=PKISVC Test Intermediate",
  ]);
  await run([
    "req",
    "-new",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "leaf.key",
    "-out",
    "leaf.csr",
    "-subj",
    `/CN=ocid1.instance.oc1.iad.aaaatestinstance/OU=opc-certtype:instance/OU=opc-compartment:ocid1.compartment.oc1..aaaatest/OU=opc-tenant:${tenancy}`,
  ]);
  await run([
    "x509",
    "-req",
    "-in",
    "leaf.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "leaf.pem",
    "-days",
    "2",
  ]);
  const read = (f: string) => Bun.file(join(dir, f)).text();
  return { tenancy, certPem: await read("leaf.pem"), keyPem: await read("leaf.key"), intermediatePem: await read("ca.pem") };
}

export interface FakeMetadata extends Counting {
  /** Calls per path below /opc/v2/. */
  counts: Map<string, number>;
  region: string;
}

export function startFakeMetadata(identity: InstanceIdentity): FakeMetadata {
  const state = { counts: new Map<string, number>(), region: "iad", mode: OK as Mode };
  const files: Record<string, string> = {
    "identity/cert.pem": identity.certPem,
    "identity/key.pem": identity.keyPem,
    "identity/intermediate.pem": identity.intermediatePem,
    "instance/id": INSTANCE_ID,
  };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const path = new URL(req.url).pathname.replace(/^\/opc\/v2\//, "");
      state.counts.set(path, (state.counts.get(path) ?? 0) + 1);
      const failure = await failResponse(state.mode);
      if (failure) return failure;
      if (req.headers.get("authorization") !== "Bearer Oracle") return new Response("missing Authorization", { status: 401 });
      if (path === "instance/region") return new Response(state.region);
      const file = files[path];
      return file ? new Response(file) : new Response("not found", { status: 404 });
    },
  });
  return Object.assign(state, { server, url: `http://127.0.0.1:${server.port}/opc/v2/`, stop: () => server.stop(true) });
}

export interface FakeFederation extends Counting {
  calls: number;
  /** Trusts each session key it federates at this token endpoint, as `ST$<jwt>`. */
  ocir: FakeOcir;
}

export function startFakeFederation(ocir: FakeOcir, tenancy: string): FakeFederation {
  const state = { calls: 0, ocir, mode: OK as Mode };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      if (new URL(req.url).pathname !== "/v1/x509" || req.method !== "POST") return new Response("not found", { status: 404 });
      state.calls++;
      const failure = await failResponse(state.mode);
      if (failure) return failure;
      const body = (await req.json()) as { certificate?: string; publicKey?: string };
      if (!body.certificate || !body.publicKey) return Response.json({ code: "InvalidParameter" }, { status: 400 });
      const token = mintJwt({
        sub: INSTANCE_ID,
        tenant: tenancy,
        exp: Math.floor(Date.now() / 1000) + 1200,
      });
      ocir.trust(`ST$${token}`, createPublicKey({ key: Buffer.from(body.publicKey, "base64"), format: "der", type: "spki" }));
      return Response.json({ token });
    },
  });
  return Object.assign(state, { server, url: `http://127.0.0.1:${server.port}`, stop: () => server.stop(true) });
}

export const INSTANCE_ID = "ocid1.instance.oc1.iad.aaaatestinstance";

export interface FakeResourcePrincipalService extends Counting {
  url: string;
  /** The resource ids asked for, in order. */
  resources: string[];
  /** Why each refused call was refused. */
  refusals: string[];
  /** Session tokens issued, in order. */
  issued: string[];
}

/**
 * Resource principal 1.1's two services in one fake (as the Go SDK calls them):
 * GET /20180711/resourcePrincipalToken/<id> and POST /v1/resourcePrincipalSessionToken,
 * each accepted only when signed by a key the OCIR fake trusts (the instance
 * principal's session key, which the federation fake registered there). The
 * session token's own session key is then trusted at OCIR, as OCI would.
 */
export function startFakeResourcePrincipalService(ocir: FakeOcir): FakeResourcePrincipalService {
  const state = { resources: [] as string[], refusals: [] as string[], issued: [] as string[], mode: OK as Mode };
  const refuse = (why: string) => {
    state.refusals.push(why);
    return Response.json({ code: "NotAuthenticated", message: why }, { status: 401 });
  };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const check = ocir.verify(req, url);
      if (!check.verified) return refuse(`signature: ${check.reason}`);
      if (!check.keyId?.startsWith("ST$")) return refuse("not signed by an instance principal");
      const rpt = /^\/20180711\/resourcePrincipalToken\/([^/]+)$/.exec(url.pathname);
      if (req.method === "GET" && rpt) {
        state.resources.push(decodeURIComponent(rpt[1]!));
        return Response.json({ resourcePrincipalToken: mintJwt({ res: rpt[1] }), servicePrincipalSessionToken: mintJwt({ sp: "x" }) });
      }
      if (req.method !== "POST" || url.pathname !== "/v1/resourcePrincipalSessionToken") return new Response("not found", { status: 404 });
      const text = await req.text();
      const sha = createHash("sha256").update(text).digest("base64");
      const signed = (req.headers.get("authorization") ?? "").includes("x-content-sha256");
      if (!signed || req.headers.get("x-content-sha256") !== sha) return refuse("body not signed");
      const body = JSON.parse(text) as Record<string, string>;
      if (!body.resourcePrincipalToken || !body.servicePrincipalSessionToken || !body.sessionPublicKey) {
        return Response.json({ code: "InvalidParameter" }, { status: 400 });
      }
      const token = mintJwt({ sub: "ocid1.datasciencejob.oc1..test", exp: Math.floor(Date.now() / 1000) + 1200 });
      ocir.trust(`ST$${token}`, createPublicKey({ key: Buffer.from(body.sessionPublicKey, "base64"), format: "der", type: "spki" }));
      state.issued.push(token);
      return Response.json({ token });
    },
  });
  return Object.assign(state, { server, url: `http://127.0.0.1:${server.port}`, stop: () => server.stop(true) });
}

/** A JWT that is decoded, not verified, by the SDK: the signature part is filler. */
export function mintJwt(claims: Record<string, unknown>): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${part({ alg: "RS256", typ: "JWT", kid: "test" })}.${part({ jti: crypto.randomUUID(), ...claims })}.${Buffer.from("filler").toString("base64url")}`;
}
