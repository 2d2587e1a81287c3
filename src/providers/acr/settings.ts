// Per-registry settings of the configuration file that this provider reads:
//
//   "registries": {
//     "myregistry.azurecr.io": { "tenantId": "…", "clientId": "…" },
//     "127.0.0.1:5000": { "alias": "myregistry.azurecr.io", "endpoint": "http://127.0.0.1:8080" }
//   }
//
// tenantId  the Entra ID tenant to ask (default: AZURE_TENANT_ID, or the identity's own)
// resourceId a user-assigned managed identity by its ARM resource ID (instead of clientId)
// clientId  which identity: the user-assigned managed identity or the workload
//           identity application (default: AZURE_CLIENT_ID, or the system-assigned identity)
// endpoint  where the login server's https API is really reached (a private
//           endpoint, a test front end). Plain http only on the loopback interface.
//           The challenge's realm must then be on this endpoint.
// Pure: validation only.

import { ProviderError } from "../../provider.ts";
import type { RegistrySettings } from "../../config.ts";
import { parseSecretEndpoint } from "../../endpoint.ts";

export const SETTINGS_KEYS = ["tenantId", "clientId", "resourceId", "endpoint"] as const;

export interface AcrSettings {
  tenantId: string | null;
  clientId: string | null;
  /** A user-assigned managed identity named by its ARM resource ID instead of its client id. */
  resourceId: string | null;
  endpoint: URL | null;
}

// Tenant ids are GUIDs or domain names; they go into the authority URL's path.
export const TENANT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9.-]{0,127}$/;
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
// It goes into the managed-identity endpoint's query string, so only the characters an ARM ID has.
export const RESOURCE_ID_PATTERN =
  /^\/subscriptions\/[A-Za-z0-9-]{1,64}\/resourcegroups\/[\w.()-]{1,90}\/providers\/microsoft\.managedidentity\/userassignedidentities\/[\w-]{1,128}$/i;

export function readAcrSettings(settings: RegistrySettings, where: string): AcrSettings {
  const fail = (problem: string): never => {
    throw new ProviderError(`configuration for ${where}: ${problem}`);
  };
  const text = (key: string, pattern: RegExp, what: string): string | null => {
    const v = settings[key];
    if (v === undefined) return null;
    if (typeof v !== "string" || !pattern.test(v)) return fail(`"${key}" must be ${what}`);
    return v;
  };
  const tenantId = text("tenantId", TENANT_PATTERN, "a tenant id (a GUID or a domain name)");
  const clientId = text("clientId", CLIENT_ID_PATTERN, "a client id (a GUID)");
  const resourceId = text(
    "resourceId",
    RESOURCE_ID_PATTERN,
    "a user-assigned identity's resource ID (/subscriptions/…/resourceGroups/…/providers/Microsoft.ManagedIdentity/userAssignedIdentities/…)",
  );
  if (clientId !== null && resourceId !== null) return fail(`"clientId" and "resourceId" name the identity twice: keep one`);
  const raw = settings.endpoint;
  let endpoint: URL | null = null;
  if (raw !== undefined) {
    if (typeof raw !== "string") return fail(`"endpoint" must be a URL such as https://myregistry.privatelink.azurecr.io`);
    endpoint = parseEndpoint(raw) ?? fail(`"endpoint" must be https://host[:port], or http:// on 127.0.0.1 or [::1]`);
  }
  return { tenantId, clientId, resourceId, endpoint };
}

export function parseEndpoint(raw: string): URL | null {
  return parseSecretEndpoint(raw, { path: false });
}

export const ANNOTATION_CLIENT_ID = "kubernetes.azure.com/acr-client-id";
export const ANNOTATION_TENANT_ID = "kubernetes.azure.com/acr-tenant-id";

/**
 * The audience kubelet requests the pod's token for: the one Entra ID expects
 * of a federated identity credential's assertion (as cloud-provider-azure's
 * acr-credential-provider configures it).
 */
export const SERVICE_ACCOUNT_AUDIENCE = "api://AzureADTokenExchange";

/** The provider's lines of `--help`: its settings keys and environment variables. */
export const ACR_HELP_TEXT = `  Settings per registry in the configuration file ("registries": {"<host>": {…}}):
    tenantId   Entra ID tenant to ask (default: AZURE_TENANT_ID)
    clientId   user-assigned managed identity or workload identity app (default: AZURE_CLIENT_ID)
    resourceId user-assigned managed identity by its ARM resource ID (instead of clientId)
    endpoint   where the login server is really reached (private endpoint); http only on loopback
  Identities, in DefaultAzureCredential's order:
    AZURE_TENANT_ID + AZURE_CLIENT_ID + AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH
    AZURE_FEDERATED_TOKEN (the token itself) or AZURE_FEDERATED_TOKEN_FILE (workload identity),
    then managed identity (IDENTITY_ENDPOINT, AZURE_POD_IDENTITY_AUTHORITY_HOST or IMDS), then
    the Azure CLI (az login)
  AZURE_TOKEN_CREDENTIALS=prod|dev|<credential name> narrows that chain; AZURE_AUTHORITY_HOST sets the authority.
  A token goes only to registries of its identity's cloud (never public → azurecr.cn/.us/.de).
  Kubelet service account tokens: audience ${SERVICE_ACCOUNT_AUDIENCE}, annotations
    ${ANNOTATION_CLIENT_ID} and ${ANNOTATION_TENANT_ID} (both required).`;
