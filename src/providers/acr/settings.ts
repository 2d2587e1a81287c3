// Per-registry settings of the configuration file that this provider reads:
//
//   "registries": {
//     "myregistry.azurecr.io": { "tenantId": "…", "clientId": "…" },
//     "127.0.0.1:5000": { "alias": "myregistry.azurecr.io", "endpoint": "http://127.0.0.1:8080" }
//   }
//
// tenantId  the Entra ID tenant to ask (default: AZURE_TENANT_ID, or the identity's own)
// clientId  which identity: the user-assigned managed identity or the workload
//           identity application (default: AZURE_CLIENT_ID, or the system-assigned identity)
// endpoint  where the login server's https API is really reached (a private
//           endpoint, a test front end). Plain http only on the loopback interface.
//           The challenge's realm must then be on this endpoint.
// Pure: validation only.

import { ProviderError } from "../../provider.ts";
import type { RegistrySettings } from "../../config.ts";
import { parseSecretEndpoint } from "../../endpoint.ts";

export const SETTINGS_KEYS = ["tenantId", "clientId", "endpoint"] as const;

export interface AcrSettings {
  tenantId: string | null;
  clientId: string | null;
  endpoint: URL | null;
}

// Tenant ids are GUIDs or domain names; they go into the authority URL's path.
export const TENANT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9.-]{0,127}$/;
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

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
  const raw = settings.endpoint;
  let endpoint: URL | null = null;
  if (raw !== undefined) {
    if (typeof raw !== "string") return fail(`"endpoint" must be a URL such as https://myregistry.privatelink.azurecr.io`);
    endpoint = parseEndpoint(raw) ?? fail(`"endpoint" must be https://host[:port], or http:// on 127.0.0.1 or [::1]`);
  }
  return { tenantId, clientId, endpoint };
}

export function parseEndpoint(raw: string): URL | null {
  return parseSecretEndpoint(raw, { path: false });
}
