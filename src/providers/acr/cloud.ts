// Which Azure cloud an identity belongs to, so that its token goes only to
// registries of that cloud: a public-cloud token is never posted to an
// azurecr.cn, azurecr.us or azurecr.de exchange endpoint, and the other way
// round. Pure and cheap (one small file read for the Azure CLI).
//
// Known from the plan, before any token exists:
//   - identities that ask an Entra ID authority (service principal, workload
//     identity, a pod's service account): the cloud of that authority host
//     (AZURE_AUTHORITY_HOST, else the registry's own cloud); a custom
//     authority (Azure Stack, a test) belongs to no known cloud and is not judged;
//   - the Azure CLI: the cloud `az cloud set` chose ($AZURE_CONFIG_DIR/config).
// Known only from the token (managed identity): its issuer. Version 1 tokens
// of the public cloud and of Azure Government share the issuer
// https://sts.windows.net/, so such a token is taken to be the public
// cloud's unless the instance metadata service says the machine is in Azure
// Government (fetch.ts asks it only for an azurecr.us registry).

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { AUTHORITY_HOSTS, type AzureCloud } from "./hosts.ts";

type Env = Readonly<Record<string, string | undefined>>;

export const CLOUD_NAMES: Readonly<Record<AzureCloud, string>> = {
  public: "the Azure public cloud",
  china: "Azure China",
  usgov: "Azure Government",
  germany: "Azure Germany",
};

/** The cloud of a known Entra ID authority host, or null for any other (custom) host. */
export function cloudOfAuthority(authorityHost: string): AzureCloud | null {
  const host = authorityHost.replace(/\/+$/, "").toLowerCase();
  for (const [cloud, known] of Object.entries(AUTHORITY_HOSTS) as Array<[AzureCloud, string]>) {
    if (known === host) return cloud;
  }
  return null;
}

// Issuer hosts of Entra ID tokens (v1 and v2) per cloud.
const ISSUER_HOSTS: Readonly<Record<string, readonly AzureCloud[]>> = {
  "sts.windows.net": ["public", "usgov"],
  "login.microsoftonline.com": ["public"],
  "login.microsoftonline.us": ["usgov"],
  "login.windows.net": ["public"],
  "sts.chinacloudapi.cn": ["china"],
  "login.chinacloudapi.cn": ["china"],
  "login.partner.microsoftonline.cn": ["china"],
  "sts.microsoftonline.de": ["germany"],
  "login.microsoftonline.de": ["germany"],
};

/** The clouds whose Entra ID issues tokens with this `iss`; null when the issuer is not a known one. */
export function cloudsOfIssuer(iss: unknown): readonly AzureCloud[] | null {
  if (typeof iss !== "string") return null;
  try {
    return ISSUER_HOSTS[new URL(iss).hostname.toLowerCase()] ?? null;
  } catch {
    return null;
  }
}

const CLI_CLOUDS: Readonly<Record<string, AzureCloud>> = {
  azurecloud: "public",
  azurechinacloud: "china",
  azureusgovernment: "usgov",
  azuregermancloud: "germany",
};

/** The Azure CLI's active cloud from its config file ([cloud] name = …); AzureCloud when unset; null for a custom cloud. */
export function azureCliCloud(env: Env): AzureCloud | null {
  const dir = env.AZURE_CONFIG_DIR || (env.HOME ? join(env.HOME, ".azure") : "");
  let text = "";
  try {
    if (dir) text = readFileSync(join(dir, "config"), "utf8").slice(0, 1 << 16);
  } catch {
    // No config file: the CLI's default cloud.
  }
  const section = /^\s*\[cloud\]\s*$([\s\S]*?)(?=^\s*\[|(?![\s\S]))/m.exec(text)?.[1] ?? "";
  const name = /^\s*name\s*=\s*(\S+)\s*$/m.exec(section)?.[1];
  return name === undefined ? "public" : (CLI_CLOUDS[name.toLowerCase()] ?? null);
}

/** One line saying why a token of `identityCloud` will not be sent to a registry of `registryCloud`. */
export function crossCloudMessage(who: string, identityCloud: AzureCloud, registry: string, registryCloud: AzureCloud, fix: string): string {
  return (
    `${who} belongs to ${CLOUD_NAMES[identityCloud]}, but ${registry} is in ${CLOUD_NAMES[registryCloud]}: ` +
    `its token is not sent to another cloud's registry; ${fix}`
  );
}
