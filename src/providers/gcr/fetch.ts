// An access token from google-auth-library. Loaded only by the provider's
// fetch (`await import()`), so a cache hit never pays for the SDK.
//
// Clients are built per credential type with their own constructors rather
// than GoogleAuth.getClient(): GoogleAuth also looks up a project id, which
// can spawn `gcloud` (about a second), and its metadata detection waits 3 s
// off Google Cloud. Every client gets the deadline's AbortSignal through its
// transporter, so an abandoned request does not outlive the call.

import {
  ExternalAccountAuthorizedUserClient,
  ExternalAccountClient,
  Impersonated,
  OAuth2Client,
  UserRefreshClient,
  gcpMetadata,
  type AuthClient,
} from "google-auth-library";
import { existsSync } from "node:fs";
import { ProviderError, type Context } from "../../provider.ts";
import { readCredentialFile, wellKnownAdcFile, type AccessToken, type CredentialSource, type GcrPlan } from "./plan.ts";
import { describeGoogleError } from "./errors.ts";
import { gcloudAccessToken } from "./gcloud.ts";
import { exchangePodToken } from "./sts.ts";
import { ENABLE_WI_IMAGE_PULL_ANNOTATION } from "./workload.ts";
import { checkMetadataServer } from "./metadata.ts";
import { metadataAccessToken } from "./metadata-token.ts";
import { readServiceAccountKey, serviceAccountToken } from "./service-account.ts";
import type { GcrSettings } from "./settings.ts";
import { cappedFetch } from "../../body.ts";

export const CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform";
// When a token source does not say when its token expires (it should), assume a short life.
const UNKNOWN_EXPIRY_MS = 10 * 60_000;
/** No metadata server answered the probe: not asked again, for this identity, for this long. */
const NO_METADATA_RECUR_MS = 60_000;

export type { AccessToken } from "./plan.ts";

interface Built {
  client: AuthClient;
  /** For messages: what was asked. */
  what: string;
}

type Transport = { transporterOptions: { signal: AbortSignal; fetchImplementation: typeof fetch } };

export async function fetchAccessToken(source: CredentialSource, settings: GcrSettings, ctx: Context): Promise<AccessToken> {
  // Every answer the library reads is capped while it streams (body.ts).
  const transport: Transport = { transporterOptions: { signal: ctx.signal, fetchImplementation: cappedFetch() } };
  let built: Built;
  if (source.kind === "gcloud" || source.kind === "metadata") {
    // Both hand out a plain access token; impersonation wraps it below.
    const direct = source.kind === "gcloud" ? await fromGcloud(ctx) : await fromMetadata(source, ctx);
    if (settings.impersonate === null) return direct.token;
    // No expiry on the wrapper: it must never try to refresh a token it cannot refresh.
    const client = new OAuth2Client(transport);
    client.setCredentials({ access_token: direct.token.token });
    built = { client, what: direct.what };
  } else {
    built = await sourceClient(source, ctx, transport);
  }

  const imp = settings.impersonate;
  if (imp !== null) {
    built = {
      client: new Impersonated({
        sourceClient: built.client,
        targetPrincipal: imp.target,
        delegates: imp.delegates,
        targetScopes: [CLOUD_PLATFORM_SCOPE],
        lifetime: 3600,
        ...(imp.endpoint ? { endpoint: imp.endpoint } : {}),
        ...transport,
      }),
      what: `${built.what}, impersonating ${imp.target}`,
    };
  }

  let token: string | null | undefined;
  try {
    token = (await built.client.getAccessToken()).token;
  } catch (err) {
    if (err instanceof ProviderError) throw err;
    const reason = ctx.signal.aborted ? "no answer before the deadline" : describeGoogleError(err);
    throw new ProviderError(`token request failed (${built.what}): ${reason}`);
  }
  if (!token) throw new ProviderError(`token request (${built.what}) returned no access token`);
  const expiry = built.client.credentials.expiry_date;
  const expiresAt = typeof expiry === "number" && expiry > 0 ? new Date(expiry) : unknownExpiry(ctx, built.what);
  return { token, expiresAt };
}

function unknownExpiry(ctx: Context, what: string): Date {
  ctx.log.debug(`${what}: the token came without an expiry; assuming ${UNKNOWN_EXPIRY_MS / 60_000} minutes`);
  return new Date(ctx.now().getTime() + UNKNOWN_EXPIRY_MS);
}

async function fromGcloud(ctx: Context): Promise<{ token: AccessToken; what: string }> {
  const fromGcloud = await gcloudAccessToken({ ...ctx.env }, ctx.signal);
  return { token: { token: fromGcloud.token, expiresAt: fromGcloud.expiresAt ?? unknownExpiry(ctx, "gcloud") }, what: "gcloud" };
}

async function fromMetadata(
  source: Extract<CredentialSource, { kind: "metadata" }>,
  ctx: Context,
): Promise<{ token: AccessToken; what: string }> {
  try {
    await checkMetadataServer({
      baseUrl: source.baseUrl,
      detection: source.detection,
      onGoogleCloud: () => gcpMetadata.getGCPResidency(),
      signal: ctx.signal,
      deadline: ctx.deadline,
      now: () => ctx.now().getTime(),
    });
  } catch (err) {
    if (!(err instanceof ProviderError)) throw err;
    // Off Google Cloud this stays true: remember it rather than probe on every get.
    throw noIdentity(ctx, err.message, NO_METADATA_RECUR_MS);
  }
  ctx.log.debug(`asking the metadata server at ${source.baseUrl} for a token`);
  const token = await metadataAccessToken(source.baseUrl, ctx);
  return { token, what: `metadata server at ${source.baseUrl.replace(/^https?:\/\//, "")}` };
}

async function sourceClient(
  source: Extract<CredentialSource, { kind: "file" } | { kind: "none" }>,
  ctx: Context,
  transport: Transport,
): Promise<Built> {
  switch (source.kind) {
    case "none":
      throw noIdentity(ctx, source.reason);
    case "file": {
      const where = `${source.origin === "GOOGLE_APPLICATION_CREDENTIALS" ? "GOOGLE_APPLICATION_CREDENTIALS file" : "gcloud ADC file"} ${source.path}`;
      if (!existsSync(source.path)) throw new ProviderError(`${where} does not exist`);
      const json = readCredentialFile(source.path);
      if (json === null) throw new ProviderError(`${where} cannot be read or is not a JSON credential file`);
      ctx.log.debug(`using the ${where} (type ${String(json.type)})`);
      return { client: clientFromJson(json, where, transport, ctx), what: where };
    }
  }
}

/** Every ADC source was looked at and none applies: say what was looked at and what to do. */
function noIdentity(ctx: Context, metadataReason: string, recurForMs = 0): ProviderError {
  const adc = wellKnownAdcFile(ctx.env);
  return new ProviderError(
    `no Google identity: GOOGLE_APPLICATION_CREDENTIALS is not set, ${adc ? `${adc} does not exist` : "there is no gcloud ADC file"}, ` +
      `and ${metadataReason}; run \`gcloud auth application-default login\` or set GOOGLE_APPLICATION_CREDENTIALS`,
    { recurForMs },
  );
}

function clientFromJson(json: Record<string, unknown>, where: string, transport: Transport, ctx: Context): AuthClient {
  const str = (key: string): string | undefined => (typeof json[key] === "string" ? (json[key] as string) : undefined);
  switch (json.type) {
    case "service_account": {
      // The grant goes to the key's token_uri (service-account.ts), not where the library would send it.
      const key = readServiceAccountKey(json, where);
      const client = new OAuth2Client(transport);
      client.refreshHandler = async () => {
        const { token, expiresAt } = await serviceAccountToken(key, [CLOUD_PLATFORM_SCOPE], where, ctx);
        return { access_token: token, expiry_date: expiresAt.getTime() };
      };
      return client;
    }
    case "authorized_user": {
      if (!str("refresh_token")) throw new ProviderError(`${where}: an authorized_user file needs a refresh_token`);
      return new UserRefreshClient({
        clientId: str("client_id"),
        clientSecret: str("client_secret"),
        refreshToken: str("refresh_token"),
        ...transport,
      });
    }
    case "external_account": {
      let client: AuthClient | null;
      try {
        // The library's options type is a union per credential_source kind; the file is its documented input.
        client = ExternalAccountClient.fromJSON({ ...json, scopes: [CLOUD_PLATFORM_SCOPE], ...transport } as Parameters<
          typeof ExternalAccountClient.fromJSON
        >[0]);
      } catch (err) {
        throw new ProviderError(`${where}: invalid external_account configuration: ${describeGoogleError(err)}`);
      }
      if (client === null) throw new ProviderError(`${where}: not an external_account configuration`);
      return client;
    }
    case "external_account_authorized_user":
      return new ExternalAccountAuthorizedUserClient({
        ...(json as unknown as ConstructorParameters<typeof ExternalAccountAuthorizedUserClient>[0]),
        ...transport,
      });
    case "impersonated_service_account": {
      const url = str("service_account_impersonation_url") ?? "";
      const target = /([^/]+):generateAccessToken$/.exec(url)?.[1];
      const nested = json.source_credentials;
      if (!target || typeof nested !== "object" || nested === null) {
        throw new ProviderError(
          `${where}: an impersonated_service_account file needs service_account_impersonation_url and source_credentials`,
        );
      }
      return new Impersonated({
        sourceClient: clientFromJson(nested as Record<string, unknown>, where, transport, ctx),
        targetPrincipal: decodeURIComponent(target),
        delegates: Array.isArray(json.delegates) ? json.delegates.filter((d): d is string => typeof d === "string") : [],
        targetScopes: [CLOUD_PLATFORM_SCOPE],
        ...transport,
      });
    }
    default:
      throw new ProviderError(`${where}: unsupported credential type ${JSON.stringify(json.type ?? null)}`);
  }
}

/** A token as the plan says: the pod's, exchanged at Google STS, or the node's from its credential source. */
export async function fetchGcr(plan: GcrPlan, ctx: Context): Promise<AccessToken> {
  if (plan.kind === "node") {
    if (ctx.serviceAccount) ctx.log.debug(`the service account has no ${ENABLE_WI_IMAGE_PULL_ANNOTATION}: "true"; using the node's identity`);
    return fetchAccessToken(plan.credential, plan.settings, ctx);
  }
  // Opted in but not configured: fail rather than hand the pod the node's identity.
  if (!plan.workload.ok) throw new ProviderError(plan.workload.reason);
  if (!ctx.serviceAccount) throw new ProviderError("the pod's identity was planned without a service account token");
  const { audience, stsEndpoint } = plan.workload;
  ctx.log.debug(`exchanging the pod's service account token at ${stsEndpoint} (audience ${audience})`);
  return exchangePodToken({ subjectToken: ctx.serviceAccount.token, audience, endpoint: stsEndpoint }, ctx);
}
