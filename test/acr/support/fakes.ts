// Local fakes of the services the ACR provider talks to, on 127.0.0.1 port 0.
// Each counts its calls and can be told to refuse or to hang.

import type { Server } from "bun";
import { makeJwt, nowSeconds } from "./jwt.ts";
import type { TestCa } from "./tls.ts";

export type Mode = "ok" | "refuse" | "hang";

export const ACR_SCOPE = "https://containerregistry.azure.net/.default";
export const TENANT = "11111111-2222-3333-4444-555555555555";
export const CLIENT_ID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
export const CLIENT_SECRET = "fake-client-secret-value-123";

interface Counting {
  url: string;
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

export interface FakeEntra extends Counting {
  mode: Mode;
  /** Access tokens it issued; the fake ACR accepts only these. */
  issued: Set<string>;
  /** Form fields of the last token request (without the client secret). */
  lastForm: Record<string, string> | null;
  /** The client assertion of the last token request (a test value, not a secret). */
  lastAssertion: string | null;
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
      if (fake.mode === "hang") return h.park();
      const form = Object.fromEntries(new URLSearchParams(await req.text()));
      const { client_secret, client_assertion, ...safe } = form;
      fake.lastForm = safe;
      fake.lastAssertion = client_assertion ?? null;
      const secretOk = client_secret === CLIENT_SECRET || (client_assertion !== undefined && client_assertion.length > 0);
      if (fake.mode === "refuse" || form.client_id !== CLIENT_ID || !secretOk) {
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
        appid: form.client_id,
        exp: nowSeconds() + 3600,
      });
      fake.issued.add(token);
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
  };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      bump(calls, "token");
      if (fake.mode === "hang") return h.park();
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
      const token = makeJwt({ aud: resource, tid: tenant, exp });
      fake.issued.add(token);
      return Response.json({ access_token: token, expires_on: String(exp), resource, token_type: "Bearer" });
    },
  });
  return Object.assign(fake, counting(server, calls, h.release));
}

export interface FakeAcr extends Counting {
  mode: Mode;
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
    mode: "ok" as Mode,
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
        if (fake.mode === "hang") return h.park();
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
        const refresh =
          fake.fixedRefreshToken ?? makeJwt({ jti: crypto.randomUUID(), aud: service, exp: nowSeconds() + fake.lifetime });
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
