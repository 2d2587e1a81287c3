// cloud-provider-azure's `acr-credential-provider CONFIG [--registry-mirror a:b,…]`:
// CONFIG is the cloud provider's azure.json. Its identity keys are mapped onto
// the environment the ACR provider reads:
//   useManagedIdentityExtension: true  → managed identity only, the user-assigned
//                                        one named by userAssignedIdentityID (a client id)
//   otherwise aadClientId + aadClientSecret + tenantId → that service principal only
//   cloud (AzurePublicCloud, AzureChinaCloud, AzureUSGovernmentCloud) → its Entra ID authority
// --registry-mirror SOURCE:TARGET hands TARGET's credential to images named
// SOURCE/…, as upstream does (an alias of SOURCE for TARGET).
// Upstream gives a service principal's id and secret to the registry as a
// password; here the principal gets an ACR token instead, which the registry
// accepts the same way.

import { readFileSync, statSync } from "node:fs";
import { KLOG_FLAGS, mergeSpecs, parseFlags, verbosityArgs } from "./flags.ts";
import type { UpstreamLaunch } from "./launch.ts";

const SPEC = mergeSpecs(KLOG_FLAGS, { values: { "registry-mirror": "registry-mirror" } });
const MAX_BYTES = 1 << 20;

/** Entra ID authority per azure.json `cloud` (case-insensitive, as upstream). */
export const AUTHORITIES: Readonly<Record<string, string>> = {
  azurepubliccloud: "https://login.microsoftonline.com",
  azurechinacloud: "https://login.chinacloudapi.cn",
  azureusgovernmentcloud: "https://login.microsoftonline.us",
};

export function translate(args: readonly string[], env: UpstreamLaunch["env"]): UpstreamLaunch | string {
  if (args[0] === "--help" || args[0] === "-h") return { provider: "acr", args: ["--help"], env };
  const parsed = parseFlags(args, SPEC);
  if (typeof parsed === "string") return parsed;
  if (parsed.positional.length !== 1) return "expected exactly one argument: the azure.json configuration file";
  const verbose = verbosityArgs(parsed.flags);
  if (typeof verbose === "string") return verbose;
  const file = parsed.positional[0]!;
  const azure = readAzureJson(file);
  if (typeof azure === "string") return azure;
  const identity = identityEnv(azure, file);
  if (typeof identity === "string") return identity;
  const aliases = registryMirror(parsed.flags.get("registry-mirror") ?? "");
  if (typeof aliases === "string") return aliases;
  return { provider: "acr", args: ["get-credentials", ...verbose], env: { ...env, ...identity }, aliases };
}

type AzureJson = Record<string, unknown>;

function readAzureJson(file: string): AzureJson | string {
  let text: string;
  try {
    if (statSync(file).size > MAX_BYTES) return `${file}: larger than 1 MiB`;
    text = readFileSync(file, "utf8");
  } catch (err) {
    return `cannot read the Azure configuration file ${file}: ${(err as NodeJS.ErrnoException).code ?? "error"}`;
  }
  let data: unknown;
  try {
    // azure.json is JSON; upstream's loader also takes YAML.
    data = Bun.YAML.parse(text);
  } catch {
    return `${file}: not valid JSON or YAML`;
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) return `${file}: expected an object`;
  return data as AzureJson;
}

function identityEnv(azure: AzureJson, file: string): Record<string, string> | string {
  const str = (key: string): string | string => {
    const v = azure[key];
    return typeof v === "string" ? v.trim() : "";
  };
  for (const key of ["tenantId", "aadClientId", "aadClientSecret", "userAssignedIdentityID", "cloud"]) {
    if (azure[key] !== undefined && typeof azure[key] !== "string") return `${file}: "${key}" must be a string`;
  }
  const mi = azure.useManagedIdentityExtension;
  if (mi !== undefined && typeof mi !== "boolean") return `${file}: "useManagedIdentityExtension" must be true or false`;
  const out: Record<string, string> = {};
  const cloud = str("cloud").toLowerCase();
  if (cloud) {
    const authority = AUTHORITIES[cloud];
    if (!authority) return `${file}: cloud "${str("cloud")}" is not supported (known: AzurePublicCloud, AzureChinaCloud, AzureUSGovernmentCloud)`;
    if (cloud !== "azurepubliccloud") out.AZURE_AUTHORITY_HOST = authority;
  }
  if (str("tenantId")) out.AZURE_TENANT_ID = str("tenantId");
  if (mi === true) {
    out.AZURE_TOKEN_CREDENTIALS = "ManagedIdentityCredential";
    const id = str("userAssignedIdentityID");
    if (id.toUpperCase().includes("/SUBSCRIPTIONS/")) {
      return `${file}: userAssignedIdentityID as a resource ID is not supported here; give the identity's client ID`;
    }
    if (id) out.AZURE_CLIENT_ID = id;
    return out;
  }
  if (!str("aadClientId") || !str("aadClientSecret")) {
    return `${file}: set useManagedIdentityExtension, or aadClientId and aadClientSecret (with tenantId)`;
  }
  if (!str("tenantId")) return `${file}: tenantId is required with aadClientId and aadClientSecret`;
  out.AZURE_TOKEN_CREDENTIALS = "EnvironmentCredential";
  out.AZURE_CLIENT_ID = str("aadClientId");
  out.AZURE_CLIENT_SECRET = str("aadClientSecret");
  return out;
}

/** "mcr.microsoft.com:abc.azurecr.io,docker.io:abc.azurecr.io" → { source: target }. */
export function registryMirror(text: string): Record<string, string> | string {
  const aliases: Record<string, string> = {};
  const spec = text.replaceAll(" ", "");
  if (spec === "") return aliases;
  for (const mapping of spec.split(",")) {
    const parts = mapping.split(":");
    if (parts.length !== 2 || !parts[0] || !parts[1]) return `invalid --registry-mirror entry "${mapping}" (expected SOURCE:TARGET)`;
    aliases[parts[0].toLowerCase()] = parts[1].toLowerCase();
  }
  return aliases;
}
