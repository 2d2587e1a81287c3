// The cache-miss path: turns the plan (./plan.ts) into credentials with one
// single-source provider of the AWS SDK per step, then calls
// GetAuthorizationToken with only the client this host needs. Loaded with
// `await import()` by ecr.ts, so a cache hit never pays for any of it.

import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import type { Context, Credential, Target } from "../../provider.ts";
import { ProviderError } from "../../provider.ts";
import { summarize } from "../../summary.ts";
import { describeFailure } from "./errors.ts";
import { describeTarget, type EcrTarget } from "./hosts.ts";
import { ECS_CONTAINER_HOST, type EcrPlan, type Leaf } from "./plan.ts";
import { readSharedFiles } from "./shared-files.ts";
import { parseAuthorizationToken } from "./authorization-token.ts";
import { CappedHttpHandler } from "./capped-http.ts";

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

/** Client settings shared by ECR, ECR Public, STS and SSO. */
interface ClientBase {
  region: string;
  maxAttempts: number;
  requestHandler: { requestTimeout: number; connectionTimeout: number; throwOnRequestTimeout: true };
  logger: SdkLogger;
}

type Credentials = AwsCredentialIdentity | AwsCredentialIdentityProvider;

interface SdkLogger {
  debug(...content: unknown[]): void;
  info(...content: unknown[]): void;
  warn(...content: unknown[]): void;
  error(...content: unknown[]): void;
}

export async function fetchEcrCredential(target: Target<EcrTarget>, plan: EcrPlan, ctx: Context): Promise<Credential> {
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
  };
  ctx.log.debug(`${target.host.key}: asking ${what} for a token, with ${plan.source}`);
  const failure = (err: unknown, phase: "credentials" | "token") =>
    describeFailure(err, {
      target: what,
      source: plan.source,
      timeoutSeconds: Math.round(remaining / 100) / 10,
      aborted: ctx.signal.aborted,
      phase,
    });
  // Resolved first, so a refusal by STS or SSO is not reported as a refusal by ECR.
  let credentials: AwsCredentialIdentity;
  try {
    credentials = await credentialsFor(plan, base, ctx);
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
  credentials: AwsCredentialIdentity,
  ctx: Context,
): Promise<AuthorizationData | undefined> {
  const { ECRClient, GetAuthorizationTokenCommand } = await import("@aws-sdk/client-ecr");
  const variant = endpointOptions(details, ctx.env);
  if (variant.useFipsEndpoint !== details.fips || variant.useDualstackEndpoint !== details.dualStack) {
    ctx.log.debug("an endpoint URL is configured for ECR: not using the FIPS/dual-stack endpoint the host name asks for");
  }
  const client = new ECRClient({
    ...base,
    requestHandler: new CappedHttpHandler(base.requestHandler),
    credentials,
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

async function publicToken(
  base: ClientBase,
  credentials: AwsCredentialIdentity,
  ctx: Context,
): Promise<AuthorizationData | undefined> {
  const { ECRPUBLICClient, GetAuthorizationTokenCommand } = await import("@aws-sdk/client-ecr-public");
  const client = new ECRPUBLICClient({ ...base, requestHandler: new CappedHttpHandler(base.requestHandler), credentials });
  try {
    const out = await client.send(new GetAuthorizationTokenCommand({}), { abortSignal: ctx.signal });
    return out.authorizationData;
  } finally {
    client.destroy();
  }
}

/**
 * The plan's leaf as one SDK provider, then each role assumed in turn with
 * the credentials below it. Nothing here chooses: the plan did.
 */
async function credentialsFor(plan: EcrPlan, base: ClientBase, ctx: Context): Promise<AwsCredentialIdentity> {
  const sdk = await import("@aws-sdk/credential-providers");
  // Bodies capped as they stream (capped-http.ts), for STS and SSO as for ECR.
  const requestHandler = new CappedHttpHandler(base.requestHandler);
  const clientConfig = { region: base.region, maxAttempts: base.maxAttempts, requestHandler };
  const logger = base.logger;
  const timeout = base.requestHandler.requestTimeout;
  const files = { filepath: plan.credentialsPath, configFilepath: plan.configPath, ignoreCache: true };
  const leaf: Leaf = plan.leaf;
  let credentials: Credentials;
  switch (leaf.kind) {
    case "environment":
      credentials = staticKeys(ctx.env.AWS_ACCESS_KEY_ID, ctx.env.AWS_SECRET_ACCESS_KEY, ctx.env.AWS_SESSION_TOKEN, "the environment");
      break;
    case "file-keys": {
      const shared = readSharedFiles(ctx.env);
      const section = (leaf.file === "credentials" ? shared.credentials : shared.config).get(leaf.profile) ?? {};
      const path = leaf.file === "credentials" ? plan.credentialsPath : plan.configPath;
      credentials = staticKeys(section.aws_access_key_id, section.aws_secret_access_key, section.aws_session_token, `profile ${leaf.profile} in ${path}`);
      break;
    }
    case "web-identity":
      credentials = sdk.fromTokenFile({
        webIdentityTokenFile: leaf.tokenFile,
        roleArn: leaf.roleArn,
        roleSessionName: leaf.sessionName ?? SESSION_NAME,
        clientConfig,
        logger,
      });
      break;
    case "sso":
      // The SSO portal's region is the profile's own (sso_region), not the registry's.
      credentials = sdk.fromSSO({
        profile: leaf.profile,
        ...files,
        clientConfig: { maxAttempts: base.maxAttempts, requestHandler },
        logger,
      });
      break;
    case "process":
      credentials = sdk.fromProcess({ profile: leaf.profile, ...files, logger });
      break;
    case "container":
      credentials = sdk.fromHttp({
        ...(leaf.fullUri !== undefined ? { awsContainerCredentialsFullUri: leaf.fullUri } : {}),
        ...(leaf.relativeUri !== undefined ? { awsContainerCredentialsFullUri: `${ECS_CONTAINER_HOST}${leaf.relativeUri}` } : {}),
        ...(leaf.tokenFile !== undefined ? { awsContainerAuthorizationTokenFile: leaf.tokenFile } : {}),
        ...(leaf.token ? { awsContainerAuthorizationToken: ctx.env.AWS_CONTAINER_AUTHORIZATION_TOKEN! } : {}),
        timeout,
        maxRetries: base.maxAttempts - 1,
        logger,
      });
      break;
    case "instance-metadata":
      credentials = sdk.fromInstanceMetadata({ timeout, maxRetries: base.maxAttempts - 1, logger });
      break;
    case "none":
      throw new ProviderError(leaf.reason);
    case "pod":
      credentials = sdk.fromWebToken({
        roleArn: leaf.roleArn,
        webIdentityToken: ctx.serviceAccount!.token,
        roleSessionName: SESSION_NAME,
        clientConfig,
        logger,
      });
      break;
  }
  for (const role of plan.roles) {
    credentials = sdk.fromTemporaryCredentials({
      masterCredentials: credentials,
      params: {
        RoleArn: role.roleArn,
        RoleSessionName: role.sessionName ?? SESSION_NAME,
        ...(role.externalId !== undefined ? { ExternalId: role.externalId } : {}),
        ...(role.durationSeconds !== undefined ? { DurationSeconds: role.durationSeconds } : {}),
      },
      clientConfig,
      logger,
    });
  }
  return typeof credentials === "function" ? await credentials() : credentials;
}

function staticKeys(id: string | undefined, secret: string | undefined, session: string | undefined, where: string): AwsCredentialIdentity {
  // The plan saw them a moment ago; a file edited in between is said plainly.
  if (!id || !secret) throw new ProviderError(`the access key pair in ${where} changed while it was being read: try again`);
  return { accessKeyId: id, secretAccessKey: secret, ...(session ? { sessionToken: session } : {}) };
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

/**
 * The SDK's own logging goes to our debug log, and only its warnings and
 * errors as plain text: info-level entries carry whole responses (tokens).
 */
function sdkLogger(ctx: Context): SdkLogger {
  const text = (content: unknown[]) => content.map((c) => (typeof c === "string" || c instanceof Error ? summarize(c, [], 300) : "[object]")).join(" ");
  return {
    debug: () => {},
    info: () => {},
    warn: (...content) => ctx.log.debug(`AWS SDK warning: ${text(content)}`),
    error: (...content) => ctx.log.debug(`AWS SDK error: ${text(content)}`),
  };
}
