// Which Azure identity asks for the registry's token: DefaultAzureCredential's
// sources, decided from the environment and the registry's settings without
// loading the SDK, so `identity()` (the cache key) stays cheap and the chain
// is explicit. Order and environment variables follow DefaultAzureCredential:
//
//   1. environment service principal: AZURE_TENANT_ID, AZURE_CLIENT_ID and
//      AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH
//   2. workload identity: AZURE_FEDERATED_TOKEN (the token itself, as
//      docker-credential-acr-env accepts it; it wins) or AZURE_FEDERATED_TOKEN_FILE,
//      with AZURE_TENANT_ID and AZURE_CLIENT_ID
//   3. managed identity (system-assigned, or user-assigned by client id or,
//      with the "resourceId" setting, by its ARM resource ID)
//   4. Azure CLI (`az login`)
// A source whose cloud is known and is not the registry's is never used
// (cloud.ts): a public-cloud identity's token never goes to azurecr.cn/.us/.de.
//
// A configured source (1 or 2) is used alone, as DefaultAzureCredential stops at
// a configured source's failure; 3 and 4 are tried in turn. AZURE_TOKEN_CREDENTIALS
// ("prod", "dev" or one credential's name) narrows the chain as it does in the SDK.
// In kubelet service-account-token mode the pod's token is the client assertion,
// for the client and tenant its service account's annotations name.
// Pure: no SDK, no I/O.

import { shortHash } from "../../hash.ts";
import { ProviderError, type Context, type Plan, type ServiceAccountIdentity, type Target } from "../../provider.ts";
import { AUTHORITY_HOSTS, type AcrLoginServer, type AzureCloud } from "./hosts.ts";
import { jwtClaims } from "../../jwt.ts";
import { CLIENT_ID_PATTERN, readAcrSettings, TENANT_PATTERN, type AcrSettings, ANNOTATION_CLIENT_ID, ANNOTATION_TENANT_ID } from "./settings.ts";
import { azureCliCloud, CLOUD_NAMES, cloudOfAuthority, crossCloudMessage } from "./cloud.ts";

export type SourceKind =
  "client-secret" | "client-certificate" | "workload-identity" | "managed-identity" | "azure-cli" | "service-account";

export interface IdentitySource {
  kind: SourceKind;
  tenantId: string | null;
  clientId: string | null;
  /** Managed identity named by its ARM resource ID (then clientId is null). */
  resourceId?: string;
  /** Workload identity whose assertion is AZURE_FEDERATED_TOKEN itself, not a file. */
  inlineToken?: boolean;
}

export interface IdentityPlan {
  sources: IdentitySource[];
  /** Entra ID authority host (https URL without path). */
  authorityHost: string;
  /** True when AZURE_AUTHORITY_HOST names a host MSAL does not know: skip instance discovery. */
  customAuthority: boolean;
  /** A stable digest of the pod's service account, in service-account-token mode. */
  serviceAccountId: string | null;
}


const NAMED: Readonly<Record<string, SourceKind[]>> = {
  environmentcredential: ["client-secret", "client-certificate"],
  workloadidentitycredential: ["workload-identity"],
  managedidentitycredential: ["managed-identity"],
  azureclicredential: ["azure-cli"],
  prod: ["client-secret", "client-certificate", "workload-identity", "managed-identity"],
  dev: ["azure-cli"],
};

type Env = Context["env"];

/** The provider's plan: the identity chain for this registry, and the settings it came from. */
export interface AcrPlan extends Plan {
  identity: IdentityPlan;
  settings: AcrSettings;
}

export function planAcr(target: Target<AcrLoginServer>, ctx: Context): AcrPlan {
  const settings = readAcrSettings(target.settings, target.host.key);
  const planned = planIdentity(ctx.env, settings, target.details.cloud, ctx.serviceAccount);
  const identity = sameCloudOnly(planned, target.details.cloud, target.registry, ctx.env);
  const key = identityKey(identity);
  const first = identity.sources[0];
  return {
    key,
    source: first ? describeSource(first) : "no identity (AZURE_TOKEN_CREDENTIALS leaves none)",
    pod: ctx.serviceAccount !== undefined,
    identity,
    settings,
  };
}

export function planIdentity(
  env: Env,
  settings: AcrSettings,
  cloud: AzureCloud,
  serviceAccount?: ServiceAccountIdentity,
): IdentityPlan {
  const known = new Set(Object.values(AUTHORITY_HOSTS));
  const fromEnv = env.AZURE_AUTHORITY_HOST?.trim().replace(/\/+$/, "");
  const authorityHost = fromEnv || AUTHORITY_HOSTS[cloud];
  const base = { authorityHost, customAuthority: !!fromEnv && !known.has(fromEnv) };

  if (serviceAccount) {
    const { tenantId, clientId } = serviceAccountIdentity(serviceAccount);
    return {
      ...base,
      sources: [{ kind: "service-account", tenantId, clientId }],
      serviceAccountId: serviceAccountDigest(serviceAccount.token),
    };
  }

  const envTenant = settings.tenantId ?? env.AZURE_TENANT_ID ?? null;
  const envClient = env.AZURE_CLIENT_ID || null;
  // A resource ID names one managed identity: no client id of the environment applies to it.
  const byResource = settings.resourceId;
  const clientId = byResource ? null : (settings.clientId ?? envClient);
  // The environment's secret belongs to AZURE_CLIENT_ID: a registry configured for another client id cannot use it.
  const envPrincipalUsable =
    !byResource && !!envTenant && !!envClient && (settings.clientId === null || settings.clientId === envClient);

  const allowed = allowedKinds(env.AZURE_TOKEN_CREDENTIALS);
  const pick = (kinds: SourceKind[]) => kinds.filter((k) => allowed === null || allowed.includes(k));

  const configured: IdentitySource[] = [];
  if (envPrincipalUsable && env.AZURE_CLIENT_SECRET)
    configured.push({ kind: "client-secret", tenantId: envTenant, clientId: envClient });
  else if (envPrincipalUsable && env.AZURE_CLIENT_CERTIFICATE_PATH) {
    configured.push({ kind: "client-certificate", tenantId: envTenant, clientId: envClient });
  }
  if ((env.AZURE_FEDERATED_TOKEN || env.AZURE_FEDERATED_TOKEN_FILE) && envTenant && clientId) {
    configured.push({
      kind: "workload-identity",
      tenantId: envTenant,
      clientId,
      ...(env.AZURE_FEDERATED_TOKEN ? { inlineToken: true } : {}),
    });
  }
  const chosen = configured.filter((s) => allowed === null || allowed.includes(s.kind));
  if (chosen.length > 0) return { ...base, sources: [chosen[0]!], serviceAccountId: null };

  const fallbacks: IdentitySource[] = pick(["managed-identity", "azure-cli"]).map((kind) =>
    kind === "managed-identity"
      ? { kind, tenantId: null, clientId, ...(byResource ? { resourceId: byResource } : {}) }
      : { kind, tenantId: settings.tenantId, clientId: null },
  );
  return { ...base, sources: fallbacks, serviceAccountId: null };
}

/**
 * The cloud a source's identity belongs to when the plan can tell, or null
 * (managed identity: told by its token, in fetch; a custom authority: not judged).
 */
export function sourceCloud(s: IdentitySource, plan: IdentityPlan, env: Env): AzureCloud | null {
  switch (s.kind) {
    case "managed-identity":
      return null;
    case "azure-cli":
      return azureCliCloud(env);
    default:
      return cloudOfAuthority(plan.authorityHost);
  }
}

/** The plan without sources of another cloud; an error naming the clouds when none is left. */
function sameCloudOnly(plan: IdentityPlan, cloud: AzureCloud, registry: string, env: Env): IdentityPlan {
  const other = plan.sources.map((s) => sourceCloud(s, plan, env)).find((c): c is AzureCloud => c !== null && c !== cloud);
  const sources = plan.sources.filter((s) => {
    const c = sourceCloud(s, plan, env);
    return c === null || c === cloud;
  });
  if (sources.length > 0 || other === undefined) return { ...plan, sources };
  const first = plan.sources[0]!;
  const fix =
    first.kind === "azure-cli"
      ? `run \`az cloud set\` for ${CLOUD_NAMES[cloud]} and log in there`
      : `use an identity of ${CLOUD_NAMES[cloud]} (AZURE_AUTHORITY_HOST=${AUTHORITY_HOSTS[cloud]})`;
  throw new ProviderError(crossCloudMessage(describeSource(first), other, registry, cloud, fix));
}

/**
 * The client and tenant a pod's token is exchanged for: both annotations are
 * required, as cloud-provider-azure's acr-credential-provider requires them.
 * No fallback to the node's AZURE_CLIENT_ID or the configuration file: those
 * describe the node's identity, and the pod asked for its own. The values come
 * from whoever may edit the service account, so they are checked before
 * going into the authority URL.
 */
export function serviceAccountIdentity(sa: ServiceAccountIdentity): { tenantId: string; clientId: string } {
  const clientId = sa.annotations[ANNOTATION_CLIENT_ID]?.trim() ?? "";
  const tenantId = sa.annotations[ANNOTATION_TENANT_ID]?.trim() ?? "";
  const missing = [clientId ? null : ANNOTATION_CLIENT_ID, tenantId ? null : ANNOTATION_TENANT_ID].filter(Boolean);
  if (missing.length > 0) {
    throw new ProviderError(
      `the pod's service account has no ${missing.join(" or ")} annotation (both the client id and the tenant id of the identity to pull as are required)`,
    );
  }
  if (!CLIENT_ID_PATTERN.test(clientId)) {
    throw new ProviderError(`the annotation ${ANNOTATION_CLIENT_ID} must be a client id (a GUID)`);
  }
  if (!TENANT_PATTERN.test(tenantId)) {
    throw new ProviderError(
      `the annotation ${ANNOTATION_TENANT_ID} must be a tenant id (a GUID or a domain name)`,
    );
  }
  return { tenantId, clientId };
}

/** The sources AZURE_TOKEN_CREDENTIALS allows, or null for all. Throws on a value the SDK would not accept either. */
export function allowedKinds(value: string | undefined): SourceKind[] | null {
  const v = value?.trim().toLowerCase();
  if (!v) return null;
  const kinds = NAMED[v];
  if (!kinds) {
    throw new ProviderError(
      `AZURE_TOKEN_CREDENTIALS="${value!.slice(0, 60)}" is not supported here (use prod, dev, EnvironmentCredential, WorkloadIdentityCredential, ManagedIdentityCredential or AzureCliCredential)`,
    );
  }
  return kinds;
}

const SHORT: Readonly<Record<SourceKind, string>> = {
  "client-secret": "sp",
  "client-certificate": "spcert",
  "workload-identity": "wi",
  "managed-identity": "mi",
  "azure-cli": "cli",
  "service-account": "sa",
};

/** The cache key's identity part: short, stable, no secret. */
export function identityKey(plan: IdentityPlan): string {
  const sources =
    plan.sources
      .map((s) => `${SHORT[s.kind]}:${s.tenantId ?? ""}/${s.resourceId?.toLowerCase() ?? s.clientId ?? ""}${s.inlineToken ? ":inline" : ""}`)
      .join("+") || "none";
  const authority = plan.authorityHost.replace(/^https:\/\//, "");
  return [sources, authority, plan.serviceAccountId].filter(Boolean).join("@");
}

/** For messages: "the service principal <id> (tenant <t>)", "the system-assigned managed identity"… */
export function describeSource(s: IdentitySource): string {
  const tenant = s.tenantId ? ` in tenant ${s.tenantId}` : "";
  switch (s.kind) {
    case "client-secret":
    case "client-certificate":
      return `the service principal ${s.clientId}${tenant}`;
    case "workload-identity":
      return `the workload identity ${s.clientId}${tenant}${s.inlineToken ? " (AZURE_FEDERATED_TOKEN)" : ""}`;
    case "managed-identity":
      if (s.resourceId) return `the user-assigned managed identity ${s.resourceId}`;
      return s.clientId ? `the user-assigned managed identity ${s.clientId}` : "the system-assigned managed identity";
    case "azure-cli":
      return `the Azure CLI login${tenant}`;
    case "service-account":
      return `the pod's service account as ${s.clientId}${tenant}`;
  }
}

/** Pods differ by service account, not only by client id: a pod must never get another pod's token. */
function serviceAccountDigest(token: string): string {
  const claims = jwtClaims(token);
  const who = claims ? `${String(claims.iss ?? "")}|${String(claims.sub ?? "")}` : token;
  return shortHash(who, 16);
}
