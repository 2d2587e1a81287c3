// A local fake of the three AWS APIs the ECR helper calls: ECR and ECR Public
// GetAuthorizationToken (JSON 1.1), STS AssumeRole and AssumeRoleWithWebIdentity (query/XML). Reached
// through AWS_ENDPOINT_URL_ECR / _ECR_PUBLIC / _STS. It refuses anything not
// SigV4-signed with a credential scope for the service the call belongs to,
// records each call (service, region, access key id) and can misbehave.

export type Service = "ecr" | "ecr-public" | "sts";
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
        return stsCredentials("AssumeRoleWithWebIdentity", params, "web-identity");
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
      if (service === "sts") return stsCredentials("AssumeRole", new URLSearchParams(body), accessKeyId!);

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
  fake.url = `http://127.0.0.1:${server.port}`;
  return fake;
}

/** STS AssumeRole*: the session's access key id names the role, so the ECR call shows who signed it. */
function stsCredentials(action: string, params: URLSearchParams, caller: string): Response {
  const role = (params.get("RoleArn") ?? "").split("/").pop() ?? "role";
  const keyId = `ASIA${role.toUpperCase().replace(/[^A-Z0-9]/g, "")}`;
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
