// Local fakes of Google's token endpoints, on 127.0.0.1 with port 0: the GCE
// metadata server (reached through GCE_METADATA_HOST) and an STS token
// exchange endpoint (an external_account config's token_url) that also
// serves iamcredentials' generateAccessToken for impersonation. Each counts
// its calls and can be told to fail, to hang, to answer slowly, or to answer
// with a malformed body.

import { randomBytes } from "node:crypto";

/**
 * fail: refuse (metadata: HTTP 500; STS: 400 invalid_grant); error: HTTP 500;
 * malformed: 200 with a body that is not a token answer.
 */
export type FakeMode = "ok" | "fail" | "error" | "hang" | "malformed";

interface Common {
  /** `127.0.0.1:<port>`. */
  host: string;
  url: string;
  mode: FakeMode;
  /** Lifetime of the tokens it hands out, in seconds (≤ 0: already expired). */
  expiresIn: number;
  /** Wait this long before answering a token request. */
  delayMs: number;
  /** Every token it has issued, in order. */
  issued: string[];
  stop(): Promise<void>;
}

export interface FakeMetadataServer extends Common {
  /** Requests of any kind (probes included). */
  calls: number;
  tokenCalls: number;
}

export interface StsExchange {
  subjectToken: string;
  audience: string | null;
  subjectTokenType: string | null;
  /** "json" (auth-provider-gcp's request) or "form" (google-auth-library's). */
  encoding: "json" | "form";
}

export interface FakeSts extends Common {
  exchangeCalls: number;
  impersonationCalls: number;
  /** The subject token it accepts (an external_account config's). */
  subjectToken: string;
  /** More subject tokens it accepts (pods' service account tokens). */
  acceptedSubjects: Set<string>;
  /** When set, an exchange whose audience differs is refused (400 invalid_target). */
  expectedAudience: string | null;
  /** Every exchange request it received, accepted or not. */
  exchanges: StsExchange[];
  /** The subject token each issued token was exchanged for. */
  issuedFor: Map<string, string>;
  /** Service accounts impersonated, in order. */
  impersonated: string[];
  /** Answer generateAccessToken with 403 PERMISSION_DENIED. */
  refuseImpersonation: boolean;
  /** When set, every exchange hands out this token. */
  fixedToken: string | null;
}

export function newToken(tag: string): string {
  return `ya29.fake-${tag}-${randomBytes(12).toString("hex")}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function hanging(pending: Set<() => void>): Promise<Response> {
  return new Promise((resolve) => pending.add(() => resolve(new Response("stopped", { status: 503 }))));
}

/** `token`: hand out this token every time (an end-to-end registry must know it in advance). */
export function startFakeMetadataServer(options: { expiresIn?: number; token?: string } = {}): FakeMetadataServer {
  const pending = new Set<() => void>();
  const flavor = { "Metadata-Flavor": "Google" };
  const fake: FakeMetadataServer = {
    host: "",
    url: "",
    mode: "ok",
    expiresIn: options.expiresIn ?? 3599,
    delayMs: 0,
    issued: [],
    calls: 0,
    tokenCalls: 0,
    stop: async () => {},
  };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      fake.calls++;
      const path = new URL(req.url).pathname;
      const isToken = path === "/computeMetadata/v1/instance/service-accounts/default/token";
      if (isToken) fake.tokenCalls++;
      if (fake.mode === "hang") return hanging(pending);
      if (req.headers.get("metadata-flavor") !== "Google") {
        return new Response("Missing Metadata-Flavor:Google header", { status: 403, headers: flavor });
      }
      if (path === "/") return new Response("computeMetadata/\n", { headers: flavor });
      if (path === "/computeMetadata/v1/instance/service-accounts/default/email") {
        return new Response("node@cch-test-project.iam.gserviceaccount.com", { headers: flavor });
      }
      if (isToken) {
        if (fake.delayMs > 0) await sleep(fake.delayMs);
        if (fake.mode === "fail" || fake.mode === "error") {
          return new Response("internal error", { status: 500, headers: flavor });
        }
        if (fake.mode === "malformed") return new Response("<html>not a token</html>", { headers: flavor });
        const token = options.token ?? newToken("metadata");
        fake.issued.push(token);
        return Response.json({ access_token: token, expires_in: fake.expiresIn, token_type: "Bearer" }, { headers: flavor });
      }
      return new Response("not found", { status: 404, headers: flavor });
    },
  });
  fake.host = `127.0.0.1:${server.port}`;
  fake.url = `http://${fake.host}`;
  fake.stop = async () => {
    for (const release of pending) release();
    await server.stop(true);
  };
  return fake;
}

/** STS takes form-encoded (google-auth-library) and JSON (auth-provider-gcp) requests alike. */
async function readStsForm(req: Request): Promise<URLSearchParams> {
  const text = await req.text();
  if (!(req.headers.get("content-type") ?? "").includes("json")) return new URLSearchParams(text);
  const out = new URLSearchParams();
  try {
    const data = JSON.parse(text) as Record<string, unknown>;
    for (const [k, v] of Object.entries(data)) if (typeof v === "string") out.set(k, v);
  } catch {
    // an unreadable body has no subject token and is refused below
  }
  return out;
}

export function startFakeSts(options: { expiresIn?: number } = {}): FakeSts {
  const pending = new Set<() => void>();
  const fake: FakeSts = {
    host: "",
    url: "",
    mode: "ok",
    expiresIn: options.expiresIn ?? 3599,
    delayMs: 0,
    issued: [],
    acceptedSubjects: new Set(),
    expectedAudience: null,
    exchanges: [],
    issuedFor: new Map(),
    exchangeCalls: 0,
    impersonationCalls: 0,
    subjectToken: `eyJhbGciOiJSUzI1NiJ9.${randomBytes(24).toString("base64url")}.${randomBytes(24).toString("base64url")}`,
    impersonated: [],
    refuseImpersonation: false,
    fixedToken: null,
    stop: async () => {},
  };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const path = new URL(req.url).pathname;
      if (req.method === "POST" && path === "/v1/token") {
        fake.exchangeCalls++;
        if (fake.mode === "hang") return hanging(pending);
        if (fake.delayMs > 0) await sleep(fake.delayMs);
        if (fake.mode === "error") return Response.json({ error: { code: 500, status: "INTERNAL" } }, { status: 500 });
        const form = await readStsForm(req);
        const subject = form.get("subject_token") ?? "";
        fake.exchanges.push({
          subjectToken: subject,
          audience: form.get("audience"),
          subjectTokenType: form.get("subject_token_type"),
          encoding: (req.headers.get("content-type") ?? "").includes("json") ? "json" : "form",
        });
        if (fake.mode === "fail" || (subject !== fake.subjectToken && !fake.acceptedSubjects.has(subject))) {
          return Response.json({ error: "invalid_grant", error_description: "The subject token is not valid." }, { status: 400 });
        }
        if (form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:token-exchange") {
          return Response.json({ error: "unsupported_grant_type" }, { status: 400 });
        }
        if (form.get("subject_token_type") !== "urn:ietf:params:oauth:token-type:jwt") {
          return Response.json({ error: "invalid_request", error_description: "Invalid subject_token_type." }, { status: 400 });
        }
        if (fake.expectedAudience !== null && form.get("audience") !== fake.expectedAudience) {
          return Response.json({ error: "invalid_target", error_description: "The audience is invalid." }, { status: 400 });
        }
        if (fake.mode === "malformed")
          return new Response('{"access_token": ', { headers: { "Content-Type": "application/json" } });
        const token = fake.fixedToken ?? newToken("sts");
        fake.issued.push(token);
        fake.issuedFor.set(token, subject);
        return Response.json({
          access_token: token,
          issued_token_type: "urn:ietf:params:oauth:token-type:access_token",
          token_type: "Bearer",
          expires_in: fake.expiresIn,
        });
      }
      const imp = /^\/v1\/projects\/-\/serviceAccounts\/([^/]+):generateAccessToken$/.exec(path);
      if (req.method === "POST" && imp) {
        fake.impersonationCalls++;
        if (fake.mode === "hang") return hanging(pending);
        const bearer = req.headers.get("authorization")?.replace(/^Bearer /, "") ?? "";
        if (fake.mode === "fail" || fake.refuseImpersonation || !fake.issued.includes(bearer)) {
          return Response.json(
            {
              error: {
                code: 403,
                message: "Permission 'iam.serviceAccounts.getAccessToken' denied",
                status: "PERMISSION_DENIED",
              },
            },
            { status: 403 },
          );
        }
        const target = decodeURIComponent(imp[1]!);
        fake.impersonated.push(target);
        const token = newToken("impersonated");
        fake.issued.push(token);
        return Response.json({ accessToken: token, expireTime: new Date(Date.now() + fake.expiresIn * 1000).toISOString() });
      }
      return new Response("not found", { status: 404 });
    },
  });
  fake.host = `127.0.0.1:${server.port}`;
  fake.url = `http://${fake.host}`;
  fake.stop = async () => {
    for (const release of pending) release();
    await server.stop(true);
  };
  return fake;
}
