// Local fakes of the services the ACR provider talks to, on 127.0.0.1 port 0.
// Each counts its calls and can be told to refuse or to hang.

import type { Server } from "bun";
import { jwtClaims } from "../../../src/jwt.ts";
import { makeJwt, nowSeconds } from "./jwt.ts";
import type { TestCa } from "../../support/tls.ts";

/**
 * ok; refuse (a 4xx the service would send); hang (never answers); error
 * (HTTP 500); garbage (200 with a body that is not JSON); slow (answers
 * correctly after `delayMs`).
 */
export type Mode = "ok" | "refuse" | "hang" | "error" | "garbage" | "slow";
/** The exchange can also answer 200 without a refresh token. */
export type ExchangeMode = Mode | "no-refresh";

export const ACR_SCOPE = "https://containerregistry.azure.net/.default";
export const TENANT = "11111111-2222-3333-4444-555555555555";
export const CLIENT_ID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
export const CLIENT_SECRET = "fake-client-secret-value-123";

interface Counting {
  url: string;
  /** How long "slow" waits before answering. */
  delayMs: number;
  calls: Record<string, number>;
  total(): number;
  /** Forget the counts. */
  reset(): void;
  stop(): Promise<void>;
}

/** Requests that hang are parked here, so stop() can end them. */
function hangs() {
  const parked: Array<() => void> = [];
  return {
    park: () => new Promise<Response>((resolve) => parked.push(() => resolve(new Response("gone", { status: 503 })))),
    release: () => parked.splice(0).forEach((f) => f()),
  };
}

function counting(server: Server<undefined>, calls: Record<string, number>, release: () => void): Counting {
  return {
    url: server.url.origin,
    delayMs: 500,
    calls,
    total: () => Object.values(calls).reduce((a, b) => a + b, 0),
    reset: () => Object.keys(calls).forEach((k) => delete calls[k]),
    async stop() {
      release();
      await server.stop(true);
    },
  };
}

const bump = (calls: Record<string, number>, key: string) => (calls[key] = (calls[key] ?? 0) + 1);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The answer for the fault modes every fake shares, or null to answer normally. */
async function fault(mode: Mode, delayMs: number, park: () => Promise<Response>): Promise<Response | null> {
  switch (mode) {
    case "hang":
      return park();
    case "error":
      return new Response("internal error", { status: 500, headers: { "content-type": "text/plain" } });
    case "garbage":
      return new Response("<html><body>Service Unavailable", { status: 200, headers: { "content-type": "application/json" } });
    case "slow":
      await sleep(delayMs);
      return null;
    default:
      return null;
  }
}

export interface FakeEntra extends Counting {
  mode: Mode;
  /** Access tokens it issued; the fake ACR accepts only these. */
  issued: Set<string>;
  /** Form fields of the last token request (without the client secret). */
  lastForm: Record<string, string> | null;
  /** The client assertion of the last token request (a test value, not a secret). */
  lastAssertion: string | null;
  /** Whether the last token request carried a client secret (the node's service principal). */
  lastUsedSecret: boolean;
  /**
   * Federated identity credentials: client id → the assertion subject it
   * trusts (`system:serviceaccount:<ns>:<name>`). An assertion for a client
   * id not listed here is accepted only for CLIENT_ID, whatever its subject.
   */
  federated: Map<string, string>;
  /** Tokens issued per client id. */
  byClient: Record<string, number>;
}

/** An Entra ID authority over https: OpenID metadata and the v2.0 token endpoint. */
export function startFakeEntra(ca: TestCa): FakeEntra {
  const calls: Record<string, number> = {};
  const h = hangs();
  const fake = {
    mode: "ok" as Mode,
    issued: new Set<string>(),
    lastForm: null as Record<string, string> | null,
    lastAssertion: null as string | null,
    lastUsedSecret: false,
    federated: new Map<string, string>(),
    byClient: {} as Record<string, number>,
    delayMs: 500,
  };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    tls: { cert: ca.cert, key: ca.key },
    async fetch(req) {
      const url = new URL(req.url);
      const base = url.origin;
      const m = /^\/([^/]+)\/(v2\.0\/\.well-known\/openid-configuration|oauth2\/v2\.0\/token)$/.exec(url.pathname);
      if (!m) {
        bump(calls, "other");
        return Response.json({ error: "not_found" }, { status: 404 });
      }
      const tenant = m[1]!;
      if (m[2]!.startsWith("v2.0")) {
        bump(calls, "metadata");
        return Response.json({
          token_endpoint: `${base}/${tenant}/oauth2/v2.0/token`,
          authorization_endpoint: `${base}/${tenant}/oauth2/v2.0/authorize`,
          end_session_endpoint: `${base}/${tenant}/oauth2/v2.0/logout`,
          jwks_uri: `${base}/${tenant}/discovery/v2.0/keys`,
          issuer: `${base}/${tenant}/v2.0`,
          response_types_supported: ["code", "id_token", "token"],
          token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        });
      }
      bump(calls, "token");
      const faulty = await fault(fake.mode, fake.delayMs, h.park);
      if (faulty) return faulty;
      const form = Object.fromEntries(new URLSearchParams(await req.text()));
      const { client_secret, client_assertion, ...safe } = form;
      fake.lastForm = safe;
      fake.lastAssertion = client_assertion ?? null;
      fake.lastUsedSecret = client_secret !== undefined;
      const clientId = form.client_id ?? "";
      const trusted = fake.federated.get(clientId);
      const assertionOk = client_assertion
        ? trusted === undefined
          ? clientId === CLIENT_ID
          : jwtClaims(client_assertion)?.sub === trusted
        : false;
      const secretOk = clientId === CLIENT_ID && client_secret === CLIENT_SECRET;
      if (fake.mode === "refuse" || !(secretOk || assertionOk)) {
        return Response.json(
          {
            error: "invalid_client",
            error_description:
              "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value.\r\nTrace ID: 0000 Correlation ID: 1111 Timestamp: 2026-01-01 00:00:00Z",
            error_codes: [7000215],
          },
          { status: 401 },
        );
      }
      if (form.scope !== ACR_SCOPE || form.grant_type !== "client_credentials") {
        return Response.json(
          { error: "invalid_request", error_description: `AADSTS900144: bad scope ${form.scope}` },
          { status: 400 },
        );
      }
      const token = makeJwt({
        aud: "https://containerregistry.azure.net",
        tid: tenant,
        appid: clientId,
        exp: nowSeconds() + 3600,
      });
      fake.issued.add(token);
      bump(fake.byClient, clientId);
      return Response.json({ token_type: "Bearer", expires_in: 3599, ext_expires_in: 3599, access_token: token });
    },
  });
  return Object.assign(fake, counting(server, calls, h.release));
}

export interface FakeManagedIdentity extends Counting {
  mode: Mode;
  header: string;
  issued: Set<string>;
  /** client_id of the last request, or null for system-assigned. */
  lastClientId: string | null;
}

/** An App Service managed-identity endpoint (IDENTITY_ENDPOINT + IDENTITY_HEADER) over http. */
export function startFakeManagedIdentity(tenant = TENANT): FakeManagedIdentity {
  const calls: Record<string, number> = {};
  const h = hangs();
  const fake = {
    mode: "ok" as Mode,
    header: "fake-identity-header-xyz",
    issued: new Set<string>(),
    lastClientId: null as string | null,
    delayMs: 500,
  };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      bump(calls, "token");
      const faulty = await fault(fake.mode, fake.delayMs, h.park);
      if (faulty) return faulty;
      if (req.headers.get("x-identity-header") !== fake.header) return Response.json({ error: "bad header" }, { status: 401 });
      fake.lastClientId = url.searchParams.get("client_id");
      if (fake.mode === "refuse") {
        return Response.json(
          { statusCode: 400, message: "No managed identity found for the specified client id" },
          { status: 400 },
        );
      }
      const resource = url.searchParams.get("resource");
      const exp = nowSeconds() + 3600;
      const token = makeJwt({ aud: resource, tid: tenant, appid: fake.lastClientId ?? "system-assigned", exp });
      fake.issued.add(token);
      return Response.json({ access_token: token, expires_on: String(exp), resource, token_type: "Bearer" });
    },
  });
  return Object.assign(fake, counting(server, calls, h.release));
}

export interface FakeAcr extends Counting {
  /** How /oauth2/exchange answers. */
  mode: ExchangeMode;
  /** How GET /v2/ answers ("ok": the 401 challenge). */
  challengeMode: Mode;
  /** The Www-Authenticate header to send; default: a realm on this server. */
  challenge: string | null;
  /** Seconds of life of the refresh tokens it issues. */
  lifetime: number;
  /** A fixed refresh token to issue (the e2e registry's password), else a fresh JWT each time. */
  fixedRefreshToken: string | null;
  /** Form fields of the last exchange (without the access token). */
  lastForm: Record<string, string> | null;
  issued: string[];
}

/** An ACR front end: the /v2/ challenge and /oauth2/exchange. `accepts` says which Entra tokens are valid. */
export function startFakeAcr(service: string, accepts: (accessToken: string) => boolean): FakeAcr {
  const calls: Record<string, number> = {};
  const h = hangs();
  const fake = {
    mode: "ok" as ExchangeMode,
    challengeMode: "ok" as Mode,
    delayMs: 500,
    challenge: null as string | null,
    lifetime: 3 * 3600,
    fixedRefreshToken: null as string | null,
    lastForm: null as Record<string, string> | null,
    issued: [] as string[],
  };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      if (req.method === "GET" && url.pathname === "/v2/") {
        bump(calls, "challenge");
        const faulty = await fault(fake.challengeMode, fake.delayMs, h.park);
        if (faulty) return faulty;
        const header = fake.challenge ?? `Bearer realm="${url.origin}/oauth2/token",service="${service}"`;
        return Response.json(
          { errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] },
          {
            status: 401,
            headers: { "www-authenticate": header },
          },
        );
      }
      if (req.method === "POST" && url.pathname === "/oauth2/exchange") {
        bump(calls, "exchange");
        if (fake.mode === "no-refresh") return Response.json({ access_token: "not-what-was-asked" });
        const faulty = await fault(fake.mode, fake.delayMs, h.park);
        if (faulty) return faulty;
        const form = Object.fromEntries(new URLSearchParams(await req.text()));
        const { access_token, ...safe } = form;
        fake.lastForm = safe;
        if (
          fake.mode === "refuse" ||
          form.grant_type !== "access_token" ||
          form.service !== service ||
          !access_token ||
          !accepts(access_token)
        ) {
          return Response.json(
            { errors: [{ code: "UNAUTHORIZED", message: "authentication required, visit https://aka.ms/acr/authorization" }] },
            { status: 401 },
          );
        }
        // The refresh token names the identity it was issued to, so tests can tell whose it is.
        const appid = jwtClaims(access_token)?.appid ?? null;
        const refresh =
          fake.fixedRefreshToken ?? makeJwt({ jti: crypto.randomUUID(), aud: service, appid, exp: nowSeconds() + fake.lifetime });
        fake.issued.push(refresh);
        return Response.json({ refresh_token: refresh });
      }
      bump(calls, "other");
      return new Response("not found", { status: 404 });
    },
  });
  return Object.assign(fake, counting(server, calls, h.release));
}

/** Any server that must never be called: counts everything. */
export function startCountingServer(): Counting {
  const calls: Record<string, number> = {};
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      bump(calls, new URL(req.url).pathname);
      return Response.json({ refresh_token: "stolen" });
    },
  });
  return counting(server, calls, () => {});
}
