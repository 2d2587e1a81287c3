// The cache-miss path: loads the AWS SDK (only the client this host needs),
// resolves credentials and calls GetAuthorizationToken. Loaded with
// `await import()` by ecr.ts, so a cache hit never pays for any of it.

import type { Context, Credential, Target } from "../../provider.ts";
import { ProviderError } from "../../provider.ts";
import { describeFailure } from "./errors.ts";
import { describeTarget, type EcrTarget } from "./hosts.ts";
import type { CallerIdentity } from "./identity.ts";
import { parseAuthorizationToken } from "./token.ts";

// Retries with the SDK's standard strategy (exponential backoff with jitter)
// for throttling, 5xx and timeouts; the deadline still bounds the whole call.
const MAX_ATTEMPTS = 3;
const MIN_ATTEMPT_MS = 1000;
const MAX_CONNECT_MS = 3000;
const SESSION_NAME = "docker-credential-ecr-login";

interface AuthorizationData {
  authorizationToken?: string;
  expiresAt?: Date;
}

/** Client settings shared by ECR, ECR Public and STS. */
interface ClientBase {
  region: string;
  maxAttempts: number;
  requestHandler: { requestTimeout: number; connectionTimeout: number; throwOnRequestTimeout: true };
  logger: SdkLogger;
  profile?: string;
}

interface SdkLogger {
  debug(...content: unknown[]): void;
  info(...content: unknown[]): void;
  warn(...content: unknown[]): void;
  error(...content: unknown[]): void;
}

export async function fetchEcrCredential(target: Target<EcrTarget>, who: CallerIdentity, ctx: Context): Promise<Credential> {
  const details = target.details;
  const what = describeTarget(details);
  const remaining = Math.max(0, ctx.deadline - ctx.now().getTime());
  const requestTimeout = Math.max(MIN_ATTEMPT_MS, Math.floor(remaining / MAX_ATTEMPTS));
  const base: ClientBase = {
    region: details.region,
    maxAttempts: MAX_ATTEMPTS,
    // throwOnRequestTimeout: otherwise a slow attempt only logs a warning and is never retried.
    requestHandler: { requestTimeout, connectionTimeout: Math.min(requestTimeout, MAX_CONNECT_MS), throwOnRequestTimeout: true },
    logger: sdkLogger(ctx),
    ...(who.profile !== undefined ? { profile: who.profile } : {}),
  };
  ctx.log.debug(`${target.host.key}: asking ${what} for a token, with ${who.description}`);
  const failure = (err: unknown, phase: "credentials" | "token") =>
    describeFailure(err, {
      target: what,
      source: who.description,
      timeoutSeconds: Math.round(remaining / 100) / 10,
      aborted: ctx.signal.aborted,
      phase,
    });
  // Resolved first when explicit (a role or a pod token), so a refusal by STS
  // is not reported as a refusal by ECR.
  let credentials: unknown;
  try {
    credentials = await credentialsFor(who, base);
  } catch (err) {
    throw failure(err, "credentials");
  }
  try {
    const data =
      details.kind === "public" ? await publicToken(base, credentials, ctx) : await privateToken(details, base, credentials, ctx);
    return toCredential(data, what, ctx);
  } catch (err) {
    throw failure(err, "token");
  }
}

async function privateToken(
  details: Extract<EcrTarget, { kind: "private" }>,
  base: ClientBase,
  credentials: unknown,
  ctx: Context,
): Promise<AuthorizationData | undefined> {
  const { ECRClient, GetAuthorizationTokenCommand } = await import("@aws-sdk/client-ecr");
  const variant = endpointOptions(details, ctx.env);
  if (variant.useFipsEndpoint !== details.fips || variant.useDualstackEndpoint !== details.dualStack) {
    ctx.log.debug("an endpoint URL is configured for ECR: not using the FIPS/dual-stack endpoint the host name asks for");
  }
  const client = new ECRClient({
    ...base,
    ...(credentials !== undefined ? { credentials: credentials as never } : {}),
    ...variant,
  });
  try {
    // registryIds is deprecated: one token serves every registry the principal may read.
    const out = await client.send(new GetAuthorizationTokenCommand({}), { abortSignal: ctx.signal });
    return out.authorizationData?.find((d) => d.authorizationToken);
  } finally {
    client.destroy();
  }
}

async function publicToken(base: ClientBase, credentials: unknown, ctx: Context): Promise<AuthorizationData | undefined> {
  const { ECRPUBLICClient, GetAuthorizationTokenCommand } = await import("@aws-sdk/client-ecr-public");
  const client = new ECRPUBLICClient({ ...base, ...(credentials !== undefined ? { credentials: credentials as never } : {}) });
  try {
    const out = await client.send(new GetAuthorizationTokenCommand({}), { abortSignal: ctx.signal });
    return out.authorizationData;
  } finally {
    client.destroy();
  }
}

/**
 * undefined lets the client use the SDK default chain (with `profile` when
 * one is set); a role to assume or a pod token is resolved here, by STS.
 * Typed unknown: the credential types come from the SDK we load lazily.
 */
async function credentialsFor(who: CallerIdentity, base: ClientBase): Promise<unknown> {
  if (who.webIdentity === undefined && who.roleArn === undefined) return undefined;
  const { fromNodeProviderChain, fromTemporaryCredentials, fromWebToken } = await import("@aws-sdk/credential-providers");
  const clientConfig = { region: base.region, maxAttempts: base.maxAttempts, requestHandler: base.requestHandler };
  if (who.webIdentity !== undefined) {
    return await fromWebToken({
      roleArn: who.webIdentity.roleArn,
      webIdentityToken: who.webIdentity.token,
      roleSessionName: SESSION_NAME,
      clientConfig,
      logger: base.logger,
    })();
  }
  return await fromTemporaryCredentials({
    // Explicit: otherwise STS would use the default chain without our profile.
    masterCredentials: fromNodeProviderChain({ profile: base.profile, logger: base.logger }),
    params: { RoleArn: who.roleArn!, RoleSessionName: SESSION_NAME },
    clientConfig,
    logger: base.logger,
  })();
}

function toCredential(data: AuthorizationData | undefined, what: string, ctx: Context): Credential {
  if (!data?.authorizationToken) throw new ProviderError(`${what} answered without an authorization token`);
  ctx.log.secret(data.authorizationToken);
  const decoded = parseAuthorizationToken(data.authorizationToken);
  if (!decoded.ok) {
    throw new ProviderError(
      `${what} answered with an authorization token that ${decoded.reason} (expected base64 of user:password)`,
    );
  }
  ctx.log.secret(decoded.password);
  if (!(data.expiresAt instanceof Date) || Number.isNaN(data.expiresAt.getTime())) {
    throw new ProviderError(`${what} answered with a token without an expiry`);
  }
  // Said here too (the resolver refuses it anyway) so the message names the registry.
  if (data.expiresAt.getTime() <= ctx.now().getTime()) {
    throw new ProviderError(
      `${what} answered with a token that has already expired (at ${data.expiresAt.toISOString()})`,
    );
  }
  ctx.log.debug(`got a token from ${what}, expires ${data.expiresAt.toISOString()}`);
  return { username: decoded.username, secret: decoded.password, expiresAt: data.expiresAt };
}

/**
 * A FIPS registry host is served by the FIPS API endpoint, a dual-stack one by
 * the dual-stack endpoint. The SDK refuses either together with a configured
 * endpoint URL; an explicit endpoint is the user's choice, so it wins.
 */
export function endpointOptions(
  details: Extract<EcrTarget, { kind: "private" }>,
  env: Context["env"],
): { useFipsEndpoint: boolean; useDualstackEndpoint: boolean } {
  const custom = hasEndpointOverride(env, "ECR");
  return { useFipsEndpoint: details.fips && !custom, useDualstackEndpoint: details.dualStack && !custom };
}

/** Endpoint URLs from the environment (AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL), as the SDK reads them. */
export function hasEndpointOverride(env: Context["env"], service: "ECR" | "ECR_PUBLIC"): boolean {
  if ((env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS ?? "").toLowerCase() === "true") return false;
  return Boolean(env[`AWS_ENDPOINT_URL_${service}`] || env.AWS_ENDPOINT_URL);
}

function describeLogged(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Error) return `${value.name}: ${value.message}`.replace(/\s+/g, " ").slice(0, 300);
  return "[object]";
}

/**
 * The SDK's own logging goes to our debug log, and only its warnings and
 * errors as plain text: info-level entries carry whole responses (tokens).
 */
function sdkLogger(ctx: Context): SdkLogger {
  const text = (content: unknown[]) => content.map(describeLogged).join(" ");
  return {
    debug: () => {},
    info: () => {},
    warn: (...content) => ctx.log.debug(`AWS SDK warning: ${text(content)}`),
    error: (...content) => ctx.log.debug(`AWS SDK error: ${text(content)}`),
  };
}
