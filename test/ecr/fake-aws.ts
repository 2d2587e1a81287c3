// A local fake of the AWS APIs the ECR helper calls: ECR and ECR Public
// GetAuthorizationToken (JSON 1.1), STS AssumeRole and AssumeRoleWithWebIdentity (query/XML),
// IAM Identity Center's GetRoleCredentials (bearer token), and a container
// credentials endpoint (ECS, EKS Pod Identity agent). Reached through
// AWS_ENDPOINT_URL_ECR / _ECR_PUBLIC / _STS / _SSO (or the AWS CLI's
// --endpoint-url and endpoint rule sets). It refuses anything not SigV4-signed
// with a credential scope for the service the call belongs to; with
// `strictKeys`, it also recomputes every signature from the secret it knows
// for the access key id (the ones it issued, the ones a test registered) and
// refuses unknown keys and wrong signatures. It records each call (service,
// region, access key id) and can misbehave.

import { createHash, createHmac } from "node:crypto";

export type Service = "ecr" | "ecr-public" | "sts" | "sso" | "container" | "imds";
export type Mode = "ok" | "error500" | "denied" | "hang" | Malformed;
/** Answers with HTTP 200 that a client must refuse (ECR and ECR Public only). */
export type Malformed = "badJson" | "noAuthData" | "notBase64" | "noColon" | "noExpiry";
/** How AssumeRoleWithWebIdentity is answered. */
export type StsMode = "ok" | "error500" | "hang";

export interface FakeCall {
  service: Service;
  region: string;
  accessKeyId: string;
  /** The password handed out (GetAuthorizationToken calls that succeeded). */
  password?: string;
  /** The token presented to AssumeRoleWithWebIdentity. */
  webIdentityToken?: string;
  /** The role asked for by AssumeRole / AssumeRoleWithWebIdentity. */
  roleArn?: string;
}

export interface FakeAws {
  url: string;
  calls: FakeCall[];
  count(service?: Service): number;
  /** How the next calls are answered. */
  mode: Mode;
  /** How AssumeRoleWithWebIdentity is answered (its own switch, so ECR faults can be tested in pod mode). */
  stsMode: StsMode;
  /**
   * When set, AssumeRoleWithWebIdentity accepts only these tokens, each for
   * its one role (as an IAM trust policy would): anything else is refused.
   */
  webIdentities: Map<string, string> | null;
  /** Milliseconds before answering. */
  delayMs: number;
  /** How many of the next calls are delayed by delayMs (default: all). */
  delayNext: number;
  /** How many of the next calls fail with HTTP 500 whatever the mode (transient failures). */
  failNext: number;
  /** Token lifetime in seconds. */
  lifetimeSeconds: number;
  /** When set, every token carries this password (for a registry that knows it in advance). */
  fixedPassword: string | null;
  /** Secret access keys by access key id: signatures by these keys are verified. The fake adds the keys it issues. */
  secrets: Map<string, string>;
  /** Refuse keys not in `secrets` (and verify every signature). */
  strictKeys: boolean;
  /** IAM Identity Center: bearer access token → the role credentials' access key id it yields. */
  ssoTokens: Map<string, string>;
  /** Container endpoint: Authorization header value → the access key id it yields ("" key: no header needed). */
  containerTokens: Map<string, string>;
  /** Calls refused for a bad signature or an unknown key, with the reason. */
  refused: string[];
  reset(): void;
  stop(): Promise<void>;
}

const TARGETS: Record<string, Service> = {
  "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken": "ecr",
  "SpencerFrontendService.GetAuthorizationToken": "ecr-public",
};

// AWS4-HMAC-SHA256 Credential=AKID/20261124/eu-west-1/ecr/aws4_request, SignedHeaders=…, Signature=<hex>
const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([A-Z0-9]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;

export function startFakeAws(): FakeAws {
  const hung: Array<() => void> = [];
  const fake: FakeAws = {
    url: "",
    calls: [],
    count: (service) => fake.calls.filter((c) => service === undefined || c.service === service).length,
    mode: "ok",
    stsMode: "ok",
    webIdentities: null,
    delayMs: 0,
    delayNext: Infinity,
    failNext: 0,
    lifetimeSeconds: 12 * 3600,
    fixedPassword: null,
    secrets: new Map(),
    strictKeys: false,
    ssoTokens: new Map(),
    containerTokens: new Map(),
    refused: [],
    reset() {
      fake.calls.length = 0;
      fake.mode = "ok";
      fake.stsMode = "ok";
      fake.webIdentities = null;
      fake.delayMs = 0;
      fake.delayNext = Infinity;
      fake.failNext = 0;
      fake.lifetimeSeconds = 12 * 3600;
      fake.fixedPassword = null;
      fake.secrets.clear();
      fake.strictKeys = false;
      fake.ssoTokens.clear();
      fake.containerTokens.clear();
      fake.refused.length = 0;
    },
    async stop() {
      for (const release of hung.splice(0)) release();
      server.stop(true);
    },
  };

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    // A hung call must stay hung until the client gives up.
    idleTimeout: 0,
    async fetch(req) {
      const body = await req.text();
      const url = new URL(req.url);
      if (req.method === "GET" && url.pathname === "/federation/credentials") return ssoRoleCredentials(req, url);
      if (req.method === "GET" && url.pathname.startsWith("/container-credentials/")) return containerCredentials(req);
      if (url.pathname.startsWith("/latest/")) return instanceMetadata(req, url);
      const target = req.headers.get("x-amz-target");
      const service: Service | undefined = target ? TARGETS[target] : body.includes("Action=AssumeRole") ? "sts" : undefined;
      if (service === undefined) return jsonError(400, "UnknownOperationException", `unknown operation ${target ?? "(none)"}`);

      // AssumeRoleWithWebIdentity is unsigned by design: the web identity token is the credential.
      if (service === "sts" && body.includes("Action=AssumeRoleWithWebIdentity")) {
        const params = new URLSearchParams(body);
        const token = params.get("WebIdentityToken") ?? "";
        const roleArn = params.get("RoleArn") ?? "";
        fake.calls.push({ service, region: "", accessKeyId: "", webIdentityToken: token, roleArn });
        if (fake.stsMode === "hang") {
          await new Promise<void>((resolve) => hung.push(resolve));
          return xmlError(500, "InternalFailure", "released at shutdown");
        }
        if (fake.stsMode === "error500") return xmlError(500, "InternalFailure", "the fake STS is failing on purpose");
        if (token === "") return xmlError(400, "MissingParameter", "WebIdentityToken is required");
        const allowed = fake.webIdentities?.get(token);
        if (fake.webIdentities !== null && allowed === undefined) {
          return xmlError(400, "InvalidIdentityToken", "the web identity token is not one this fake trusts");
        }
        if (allowed !== undefined && allowed !== roleArn) {
          return xmlError(403, "AccessDenied", `Not authorized to perform sts:AssumeRoleWithWebIdentity on ${roleArn}`);
        }
        return stsCredentials("AssumeRoleWithWebIdentity", params, "web-identity", fake.secrets);
      }
      const auth = AUTHORIZATION.exec(req.headers.get("authorization") ?? "");
      if (auth === null || !req.headers.get("x-amz-date")) {
        return jsonError(403, "MissingAuthenticationTokenException", "request is not SigV4-signed");
      }
      const [, accessKeyId, , region, scopeService, signedHeaders] = auth as unknown as string[];
      if (scopeService !== service) {
        return jsonError(403, "InvalidSignatureException", `signed for service ${scopeService}, expected ${service}`);
      }
      if (!signedHeaders!.split(";").includes("host") || !signedHeaders!.split(";").includes("x-amz-date")) {
        return jsonError(403, "InvalidSignatureException", "host and x-amz-date must be signed");
      }
      const secret = fake.secrets.get(accessKeyId!);
      if (secret === undefined && fake.strictKeys) {
        fake.refused.push(`unknown access key id ${accessKeyId}`);
        return jsonError(403, "UnrecognizedClientException", `The security token included in the request is invalid (${accessKeyId})`);
      }
      if (secret !== undefined) {
        const why = checkSignature(req, url, body, secret);
        if (why !== null) {
          fake.refused.push(`${accessKeyId}: ${why}`);
          return jsonError(403, "InvalidSignatureException", `The request signature we calculated does not match (${why})`);
        }
      }
      const call: FakeCall = { service, region: region!, accessKeyId: accessKeyId! };
      if (service === "sts") call.roleArn = new URLSearchParams(body).get("RoleArn") ?? "";
      fake.calls.push(call);

      if (fake.mode === "hang") {
        await new Promise<void>((resolve) => hung.push(resolve));
        return jsonError(500, "ServerException", "released at shutdown");
      }
      if (fake.delayMs > 0 && fake.delayNext > 0) {
        fake.delayNext--;
        await Bun.sleep(fake.delayMs);
      }
      if (fake.failNext > 0) {
        fake.failNext--;
        return jsonError(500, "ServerException", "a transient failure");
      }
      if (fake.mode === "error500") return jsonError(500, "ServerException", "the fake is failing on purpose");
      if (fake.mode === "denied" && service === "sts") {
        return xmlError(403, "AccessDenied", `User ${accessKeyId} is not authorized to perform sts:AssumeRole`);
      }
      if (fake.mode === "denied") {
        return jsonError(400, "AccessDeniedException", `User ${accessKeyId} is not authorized to perform GetAuthorizationToken`);
      }
      if (service === "sts") return stsCredentials("AssumeRole", new URLSearchParams(body), accessKeyId!, fake.secrets);

      const n = fake.calls.length;
      const password = fake.fixedPassword ?? `pw:${service}:${region}:${accessKeyId}:${n}`;
      const json = { "content-type": "application/x-amz-json-1.1" };
      if (fake.mode === "badJson") return new Response('{"authorizationData":[{"authorizationTok', { headers: json });
      if (fake.mode === "noAuthData") return Response.json(service === "ecr" ? { authorizationData: [] } : {}, { headers: json });
      if (fake.mode !== "ok") {
        // Well-formed JSON carrying a token no client may use.
        const token =
          fake.mode === "notBase64"
            ? "%%not*base64%%"
            : Buffer.from(fake.mode === "noColon" ? `AWS${password.replaceAll(":", "")}` : `AWS:${password}`).toString("base64");
        const bad = {
          authorizationToken: token,
          ...(fake.mode === "noExpiry" ? {} : { expiresAt: Math.floor(Date.now() / 1000) + 3600 }),
        };
        return Response.json({ authorizationData: service === "ecr" ? [bad] : bad }, { headers: json });
      }
      call.password = password;
      const data = {
        authorizationToken: Buffer.from(`AWS:${password}`).toString("base64"),
        expiresAt: Math.floor(Date.now() / 1000) + fake.lifetimeSeconds,
        ...(service === "ecr" ? { proxyEndpoint: `https://123456789012.dkr.ecr.${region}.amazonaws.com` } : {}),
      };
      return Response.json({ authorizationData: service === "ecr" ? [data] : data }, { headers: json });
    },
  });
  /** GetRoleCredentials: the bearer token must be one the test handed out. */
  function ssoRoleCredentials(req: Request, url: URL): Response {
    const token = req.headers.get("x-amz-sso_bearer_token") ?? "";
    const keyId = fake.ssoTokens.get(token);
    fake.calls.push({ service: "sso", region: "", accessKeyId: "", roleArn: `${url.searchParams.get("account_id")}/${url.searchParams.get("role_name")}` });
    if (keyId === undefined) return jsonError(401, "UnauthorizedException", "Session token not found or invalid");
    const secret = `fake-sso-secret-${keyId}`;
    fake.secrets.set(keyId, secret);
    return Response.json({
      roleCredentials: { accessKeyId: keyId, secretAccessKey: secret, sessionToken: "fake-sso-session", expiration: Date.now() + 3600_000 },
    });
  }

  /** The ECS / EKS Pod Identity agent protocol: GET, the authorization token as the whole Authorization header. */
  function containerCredentials(req: Request): Response {
    const auth = req.headers.get("authorization") ?? "";
    const keyId = fake.containerTokens.get(auth);
    fake.calls.push({ service: "container", region: "", accessKeyId: "" });
    if (keyId === undefined) return Response.json({ code: "AccessDenied", message: "bad authorization token" }, { status: 401 });
    const secret = `fake-container-secret-${keyId}`;
    fake.secrets.set(keyId, secret);
    return Response.json({
      AccessKeyId: keyId,
      SecretAccessKey: secret,
      Token: "fake-container-session",
      AccountId: "123456789012",
      Expiration: new Date(Date.now() + 3600_000).toISOString(),
    });
  }

  /** EC2 instance metadata, IMDSv2 only: a session token first, then the role and its credentials. */
  function instanceMetadata(req: Request, url: URL): Response {
    const ROLE = "node-role";
    if (req.method === "PUT" && url.pathname === "/latest/api/token") {
      if (!req.headers.get("x-aws-ec2-metadata-token-ttl-seconds")) return new Response("", { status: 400 });
      return new Response("fake-imds-session-token");
    }
    if (req.headers.get("x-aws-ec2-metadata-token") !== "fake-imds-session-token") return new Response("", { status: 401 });
    if (url.pathname === "/latest/meta-data/iam/security-credentials/") return new Response(ROLE);
    if (url.pathname === `/latest/meta-data/iam/security-credentials/${ROLE}`) {
      fake.calls.push({ service: "imds", region: "", accessKeyId: "" });
      const keyId = "ASIAINSTANCEROLE";
      fake.secrets.set(keyId, "fake-instance-secret");
      return Response.json({
        Code: "Success",
        LastUpdated: new Date().toISOString(),
        Type: "AWS-HMAC",
        AccessKeyId: keyId,
        SecretAccessKey: "fake-instance-secret",
        Token: "fake-instance-session",
        Expiration: new Date(Date.now() + 6 * 3600_000).toISOString(),
      });
    }
    return new Response("", { status: 404 });
  }

  fake.url = `http://127.0.0.1:${server.port}`;
  return fake;
}

/**
 * Recomputes an AWS4-HMAC-SHA256 signature (header form) from the request as
 * received: null when it matches, else what differs.
 */
function checkSignature(req: Request, url: URL, body: string, secret: string): string | null {
  const auth = AUTHORIZATION.exec(req.headers.get("authorization") ?? "")!;
  const [, , date, region, service, signedHeaders, signature] = auth as unknown as string[];
  const amzDate = req.headers.get("x-amz-date") ?? "";
  if (!amzDate.startsWith(date!)) return "x-amz-date and the credential scope disagree";
  const sha = (text: string) => createHash("sha256").update(text).digest("hex");
  const names = signedHeaders!.split(";");
  const headers = names.map((name) => `${name}:${(req.headers.get(name) ?? "").trim().replace(/\s+/g, " ")}\n`).join("");
  const query = [...url.searchParams.entries()]
    .map(([k, v]) => [encodeRfc3986(k), encodeRfc3986(v)] as const)
    .sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const payloadHash = req.headers.get("x-amz-content-sha256") ?? sha(body);
  const canonical = [req.method, url.pathname || "/", query, headers, signedHeaders, payloadHash].join("\n");
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha(canonical)].join("\n");
  let key: Buffer = createHmac("sha256", `AWS4${secret}`).update(date!).digest();
  for (const part of [region!, service!, "aws4_request"]) key = createHmac("sha256", key).update(part).digest();
  const expected = createHmac("sha256", key).update(toSign).digest("hex");
  return expected === signature ? null : "signature mismatch";
}

function encodeRfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** STS AssumeRole*: the session's access key id names the role, so the ECR call shows who signed it. */
function stsCredentials(action: string, params: URLSearchParams, caller: string, secrets: Map<string, string>): Response {
  const role = (params.get("RoleArn") ?? "").split("/").pop() ?? "role";
  const keyId = `ASIA${role.toUpperCase().replace(/[^A-Z0-9]/g, "")}`;
  secrets.set(keyId, `fake-secret-for-${caller}`);
  const expiration = new Date(Date.now() + 3600_000).toISOString();
  const xml = `<${action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <${action}Result>
    <Credentials>
      <AccessKeyId>${keyId}</AccessKeyId>
      <SecretAccessKey>fake-secret-for-${caller}</SecretAccessKey>
      <SessionToken>fake-session-token</SessionToken>
      <Expiration>${expiration}</Expiration>
    </Credentials>
    <AssumedRoleUser>
      <AssumedRoleId>AROAFAKE:docker-credential-ecr-login</AssumedRoleId>
      <Arn>${params.get("RoleArn")}</Arn>
    </AssumedRoleUser>
  </${action}Result>
  <ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata>
</${action}Response>`;
  return new Response(xml, { headers: { "content-type": "text/xml" } });
}

function xmlError(status: number, code: string, message: string): Response {
  const xml = `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>fake</RequestId></ErrorResponse>`;
  return new Response(xml, { status, headers: { "content-type": "text/xml" } });
}

function jsonError(status: number, type: string, message: string): Response {
  return Response.json(
    { __type: type, message },
    { status, headers: { "content-type": "application/x-amz-json-1.1", "x-amzn-errortype": type } },
  );
}
