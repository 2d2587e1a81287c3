// An Entra ID access token for the registry audience, through the real
// @azure/identity, one source of the plan at a time. Loaded only on a cache
// miss: the SDK is imported here, inside the call.
//
// Each failure becomes one line a person can act on: no identity at all (every
// source unavailable), Entra ID refusing the identity that was found, a
// service answering errors or garbage (seen through sdk-http.ts), or silence
// until the deadline, naming who was silent.

import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/identity";
import { ProviderError, type Context } from "../../provider.ts";
import { classify, clip, errorDetail, isNetworkError } from "./errors.ts";
import { describeSource, type IdentityPlan, type IdentitySource } from "./plan.ts";
import { managedIdentityEndpoint, probeImds } from "./managed-identity.ts";
import { failedAnswer, recorderPolicy, recordingHttpClient, SDK_RETRY, type AnswerLog } from "./sdk-http.ts";

/** Audience of ACR's token exchange (a registry may refuse ARM-audience tokens). */
export const ACR_SCOPE = "https://containerregistry.azure.net/.default";

export interface EntraToken {
  token: string;
  expiresOnTimestamp: number;
  source: IdentitySource;
}

type Sdk = typeof import("@azure/identity");


export async function getEntraToken(plan: IdentityPlan, ctx: Context, registry: string): Promise<EntraToken> {
  if (plan.sources.length === 0) {
    throw new ProviderError(`AZURE_TOKEN_CREDENTIALS leaves no identity to use for ${registry}`);
  }
  const sdk: Sdk = await import("@azure/identity");
  const unavailable: string[] = [];
  for (const [i, source] of plan.sources.entries()) {
    const last = i === plan.sources.length - 1;
    if (source.kind === "managed-identity" && !last) {
      const absent = await managedIdentityAbsent(ctx);
      if (absent) {
        ctx.log.debug(`${registry}: managed identity unavailable: ${absent}`);
        unavailable.push(`${LABEL[source.kind]}: ${absent}`);
        continue;
      }
    }
    let token: AccessToken | null;
    const answer: AnswerLog = { last: null, ok: false };
    try {
      const credential = makeCredential(sdk, source, plan, ctx, !last, answer);
      const options: GetTokenOptions = { abortSignal: ctx.signal };
      token = await abortable(credential.getToken(ACR_SCOPE, options), ctx.signal);
    } catch (err) {
      const what = describeSource(source);
      const who = SERVICE[source.kind];
      if (ctx.signal.aborted) {
        const seen = failedAnswer(answer);
        throw new ProviderError(
          seen === null
            ? `${who} did not answer for ${what} before the deadline`
            : `${who} kept answering ${seen} for ${what} until the deadline`,
        );
      }
      const detail = errorDetail(err, ctx);
      const seen = failedAnswer(answer);
      if (seen !== null && (isNetworkError(err) || answer.tooLarge)) {
        // The SDK calls a body it cannot parse (an error page, garbage) a network error; but an answer came.
        // A body over the limit reached the SDK empty: whatever it made of that, the answer is the cause.
        throw new ProviderError(`${who} answered ${seen} for ${what}`);
      }
      switch (classify(err, source)) {
        case "unavailable":
          ctx.log.debug(`${registry}: ${source.kind} unavailable: ${detail}`);
          unavailable.push(`${LABEL[source.kind]}: ${detail}`);
          continue;
        case "unreachable":
          throw new ProviderError(
            `could not reach Entra ID at ${plan.authorityHost} for ${what}: ${detail}`,
          );
        case "unusable":
          throw new ProviderError(`could not use ${what} for ${registry}: ${detail}`);
        case "refused":
          throw new ProviderError(`Entra ID refused ${what} for ${registry}: ${detail}`);
      }
    }
    if (!token?.token) {
      throw new ProviderError(`Entra ID returned no token for ${describeSource(source)}`);
    }
    ctx.log.secret(token.token);
    ctx.log.debug(`${registry}: Entra ID token from ${source.kind}, expires ${new Date(token.expiresOnTimestamp).toISOString()}`);
    return { token: token.token, expiresOnTimestamp: token.expiresOnTimestamp, source };
  }
  throw new ProviderError(
    `no Azure identity for ${registry} (${clip(unavailable.join("; "))}); set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, use a workload or managed identity, or run "az login"`,
  );
}

/**
 * Why managed identity is certainly not here, or null. Only for an IMDS
 * address named by AZURE_POD_IDENTITY_AUTHORITY_HOST: the SDK skips its
 * one-second probe for it and retries a dead one for seconds, which would
 * keep the next source (Azure CLI) from ever being tried within the deadline.
 * The default address is probed by the SDK itself (sendProbeRequest).
 */
async function managedIdentityAbsent(ctx: Context): Promise<string | null> {
  const mi = managedIdentityEndpoint(ctx.env);
  if (mi.kind !== "IMDS" || !mi.fromEnv) return null;
  return (await probeImds(mi.endpoint, ctx)) ? null : `no answer from ${mi.endpoint}`;
}

/**
 * Settles when the promise does or when the signal aborts: MSAL does not pass
 * getToken's signal down to every request it makes, and a silent Entra ID
 * should be reported as such, not left to the resolver's generic timeout.
 */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error("aborted"));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error("aborted"));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => (signal.removeEventListener("abort", onAbort), resolve(value)),
      (err: unknown) => (signal.removeEventListener("abort", onAbort), reject(err)),
    );
  });
}

/** Who answers for each source, in messages. */
const SERVICE: Readonly<Record<IdentitySource["kind"], string>> = {
  "client-secret": "Entra ID",
  "client-certificate": "Entra ID",
  "workload-identity": "Entra ID",
  "service-account": "Entra ID",
  "managed-identity": "the managed-identity endpoint",
  "azure-cli": "the Azure CLI",
};

const LABEL: Readonly<Record<IdentitySource["kind"], string>> = {
  "client-secret": "service principal",
  "client-certificate": "service principal certificate",
  "workload-identity": "workload identity",
  "managed-identity": "managed identity",
  "azure-cli": "Azure CLI",
  "service-account": "service account",
};

function makeCredential(
  sdk: Sdk,
  s: IdentitySource,
  plan: IdentityPlan,
  ctx: Context,
  probe: boolean,
  answers: AnswerLog,
): TokenCredential {
  const env = ctx.env;
  const common = {
    retryOptions: SDK_RETRY,
    additionalPolicies: [recorderPolicy(answers)],
    // Our fetch client, so answers are read with a cap (the SDK's own reads them whole).
    httpClient: recordingHttpClient(answers, ctx.signal),
    authorityHost: plan.authorityHost,
    // A custom authority (Azure Stack, a test) is not in MSAL's list: asking
    // login.microsoftonline.com to validate it would leak the host and fail offline.
    ...(plan.customAuthority ? { disableInstanceDiscovery: true } : {}),
  };
  const tenantId = s.tenantId ?? "";
  const clientId = s.clientId ?? "";
  switch (s.kind) {
    case "client-secret":
      return new sdk.ClientSecretCredential(tenantId, clientId, env.AZURE_CLIENT_SECRET ?? "", common);
    case "client-certificate":
      return new sdk.ClientCertificateCredential(
        tenantId,
        clientId,
        { certificatePath: env.AZURE_CLIENT_CERTIFICATE_PATH ?? "", certificatePassword: env.AZURE_CLIENT_CERTIFICATE_PASSWORD },
        {
          ...common,
          sendCertificateChain: ["1", "true"].includes((env.AZURE_CLIENT_SEND_CERTIFICATE_CHAIN ?? "").toLowerCase()),
        },
      );
    case "workload-identity": {
      // AZURE_FEDERATED_TOKEN holds the assertion itself; the SDK reads only a file.
      const inline = s.inlineToken ? (env.AZURE_FEDERATED_TOKEN ?? "").trim() : null;
      if (inline !== null) return new sdk.ClientAssertionCredential(tenantId, clientId, async () => inline, common);
      return new sdk.WorkloadIdentityCredential({ ...common, tenantId, clientId, tokenFilePath: env.AZURE_FEDERATED_TOKEN_FILE });
    }
    case "service-account": {
      const token = ctx.serviceAccount?.token ?? "";
      return new sdk.ClientAssertionCredential(tenantId, clientId, async () => token, common);
    }
    case "managed-identity": {
      // `sendProbeRequest` is the SDK's internal option DefaultAzureCredential
      // uses: a quick IMDS probe so a machine without IMDS falls through to the
      // next source instead of retrying for seconds. Typed as an intersection
      // because the public options type does not list it.
      const options: (
        | import("@azure/identity").ManagedIdentityCredentialClientIdOptions
        | import("@azure/identity").ManagedIdentityCredentialResourceIdOptions
      ) & { sendProbeRequest?: boolean } = {
        retryOptions: SDK_RETRY,
        // Not for Service Fabric: its endpoint's self-signed certificate needs the SDK's own client.
        ...(env.IDENTITY_SERVER_THUMBPRINT ? {} : { httpClient: recordingHttpClient(answers, ctx.signal) }),
        ...(s.resourceId ? { resourceId: s.resourceId } : s.clientId ? { clientId: s.clientId } : {}),
        sendProbeRequest: probe,
      };
      return new sdk.ManagedIdentityCredential(options);
    }
    case "azure-cli": {
      const remaining = Math.max(1000, ctx.deadline - ctx.now().getTime());
      return new sdk.AzureCliCredential({ ...(s.tenantId ? { tenantId: s.tenantId } : {}), processTimeoutInMs: remaining });
    }
  }
}

