// Azure Container Registry provider: an Entra ID token exchanged at the
// registry for an ACR refresh token (REFERENCE.md §4). This module stays light
// for the cache-hit path: host patterns and the identity plan only; the
// exchange, @azure/identity and doctor's checks load on demand.

import type { Provider } from "../provider.ts";
import { KUBELET_MATCH_IMAGES, matchLoginServer, type AcrLoginServer } from "./acr/hosts.ts";
import { ANNOTATION_CLIENT_ID, ANNOTATION_TENANT_ID, identityKey, planIdentity } from "./acr/identity.ts";
import { readAcrSettings, SETTINGS_KEYS } from "./acr/settings.ts";

/**
 * The audience kubelet requests the pod's token for: the one Entra ID expects
 * of a federated identity credential's assertion (as cloud-provider-azure's
 * acr-credential-provider configures it).
 */
export const SERVICE_ACCOUNT_AUDIENCE = "api://AzureADTokenExchange";

const HELP = `  Settings per registry in the configuration file ("registries": {"<host>": {…}}):
    tenantId   Entra ID tenant to ask (default: AZURE_TENANT_ID)
    clientId   user-assigned managed identity or workload identity app (default: AZURE_CLIENT_ID)
    endpoint   where the login server is really reached (private endpoint); http only on loopback
  Identities, in DefaultAzureCredential's order:
    AZURE_TENANT_ID + AZURE_CLIENT_ID + AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH
    AZURE_FEDERATED_TOKEN_FILE (workload identity), then managed identity (IDENTITY_ENDPOINT,
    AZURE_POD_IDENTITY_AUTHORITY_HOST or IMDS), then the Azure CLI (az login)
  AZURE_TOKEN_CREDENTIALS=prod|dev|<credential name> narrows that chain; AZURE_AUTHORITY_HOST sets the authority.
  Kubelet service account tokens: audience ${SERVICE_ACCOUNT_AUDIENCE}, annotations
    ${ANNOTATION_CLIENT_ID} and ${ANNOTATION_TENANT_ID} (both required).`;

export const provider: Provider<AcrLoginServer> = {
  name: "acr",
  title: "Azure Container Registry",
  match: matchLoginServer,
  identity(target, ctx) {
    const settings = readAcrSettings(target.settings, target.host.key);
    return identityKey(planIdentity(ctx.env, settings, target.details.cloud, ctx.serviceAccount));
  },
  async fetch(target, ctx) {
    const { fetchAcrCredential } = await import("./acr/exchange.ts");
    return fetchAcrCredential(target, ctx);
  },
  tokenUser: "00000000-0000-0000-0000-000000000000",
  tokenMaxLifeMs: 3 * 3600_000, // refresh tokens: about 3 h
  settingsKeys: SETTINGS_KEYS,
  kubeletMatchImages: KUBELET_MATCH_IMAGES,
  serviceAccountTokens: {
    audience: SERVICE_ACCOUNT_AUDIENCE,
    requiredAnnotationKeys: [ANNOTATION_CLIENT_ID, ANNOTATION_TENANT_ID],
  },
  async describeIdentity(target, ctx) {
    const { describeAcrIdentity } = await import("./acr/describe.ts");
    return describeAcrIdentity(target, ctx);
  },
  helpText: HELP,
};
