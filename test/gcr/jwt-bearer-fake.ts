// A strict local fake of Google's OAuth token endpoint for service-account
// keys (the JWT-bearer grant), on 127.0.0.1 with port 0, and a generated key
// file whose token_uri points at it. The fake verifies each assertion with the
// key's public key and checks its header and claims as Google's token service
// does (RS256, kid, iss = the key's client_email, aud = Google's token
// endpoint, a scope or an ID token's target_audience, a live iat/exp); anything else is refused with
// 400 invalid_grant. gcloud and the helper are both pointed at it.

import { createPublicKey, createVerify, generateKeyPairSync, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";

export const GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token";

export interface Grant {
  ok: boolean;
  /** Why it was refused, when it was. */
  reason: string;
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

export interface FakeTokenEndpoint {
  url: string;
  /** Every grant received, in order. */
  grants: Grant[];
  /** Every token issued, in order. */
  issued: string[];
  stop(): Promise<void>;
}

export interface GeneratedKey {
  clientEmail: string;
  privateKeyId: string;
  privateKeyPem: string;
  publicKeyPem: string;
  /** Writes the key file (0600) with this token_uri, or none; returns its path. */
  write(path: string, tokenUri: string | null): string;
}

export function generateServiceAccountKey(clientEmail = "ci@cch-test-project.iam.gserviceaccount.com"): GeneratedKey {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  const privateKeyId = randomBytes(20).toString("hex");
  return {
    clientEmail,
    privateKeyId,
    privateKeyPem: privateKey,
    publicKeyPem: publicKey,
    write(path, tokenUri) {
      const json = {
        type: "service_account",
        project_id: "cch-test-project",
        private_key_id: privateKeyId,
        private_key: privateKey,
        client_email: clientEmail,
        client_id: "100000000000000000001",
        auth_uri: "https://accounts.google.com/o/oauth2/auth",
        ...(tokenUri === null ? {} : { token_uri: tokenUri }),
      };
      writeFileSync(path, JSON.stringify(json, null, 2), { mode: 0o600 });
      return path;
    },
  };
}

export function startFakeTokenEndpoint(key: GeneratedKey): FakeTokenEndpoint {
  const grants: Grant[] = [];
  const issued: string[] = [];
  const publicKey = createPublicKey(key.publicKeyPem);
  const refuse = (grant: Grant, reason: string) => {
    grant.ok = false;
    grant.reason = reason;
    return Response.json({ error: "invalid_grant", error_description: reason }, { status: 400 });
  };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const grant: Grant = { ok: true, reason: "", header: {}, claims: {} };
      grants.push(grant);
      if (req.method !== "POST" || url.pathname !== "/token") return refuse(grant, `${req.method} ${url.pathname}`);
      const type = req.headers.get("content-type") ?? "";
      if (!type.startsWith("application/x-www-form-urlencoded")) return refuse(grant, `content-type ${type}`);
      const form = new URLSearchParams(await req.text());
      if (form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer") return refuse(grant, "grant_type");
      const parts = (form.get("assertion") ?? "").split(".");
      if (parts.length !== 3) return refuse(grant, "assertion is not a JWT");
      try {
        grant.header = JSON.parse(Buffer.from(parts[0]!, "base64url").toString("utf8"));
        grant.claims = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8"));
      } catch {
        return refuse(grant, "assertion is not a JWT");
      }
      const signed = createVerify("RSA-SHA256")
        .update(`${parts[0]}.${parts[1]}`)
        .verify(publicKey, Buffer.from(parts[2]!, "base64url"));
      if (!signed) return refuse(grant, "bad signature");
      const { header: h, claims: c } = grant;
      const now = Date.now() / 1000;
      if (h.alg !== "RS256") return refuse(grant, `alg ${String(h.alg)}`);
      if (h.kid !== key.privateKeyId) return refuse(grant, "kid");
      if (c.iss !== key.clientEmail) return refuse(grant, `iss ${String(c.iss)}`);
      if (c.aud !== GOOGLE_TOKEN_URI) return refuse(grant, `aud ${String(c.aud)}`);
      const idToken = typeof c.target_audience === "string" && c.target_audience !== "";
      if (!idToken && (typeof c.scope !== "string" || c.scope === "")) return refuse(grant, "no scope");
      if (typeof c.iat !== "number" || typeof c.exp !== "number" || c.exp <= now || c.iat > now + 300 || c.exp - c.iat > 3600)
        return refuse(grant, "iat/exp");
      if (idToken) {
        // gcloud also asks for an ID token (target_audience instead of scope); answer as Google does.
        const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
        const idt = `${b64({ alg: "RS256" })}.${b64({ iss: "https://accounts.google.com", aud: c.target_audience, sub: key.clientEmail, exp: Math.floor(now) + 3600 })}.c2ln`;
        return Response.json({ id_token: idt });
      }
      const token = `ya29.fake-${randomBytes(12).toString("hex")}`;
      issued.push(token);
      return Response.json({ access_token: token, expires_in: 3599, token_type: "Bearer" });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}/token`,
    grants,
    issued,
    stop: async () => {
      await server.stop(true);
    },
  };
}
