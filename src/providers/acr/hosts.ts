// Which host names are Azure Container Registry login servers, and which
// Azure cloud each belongs to. Pure: no I/O, cheap to import on the cache-hit path.
//
// Accepted (anchored, on the lower-cased host name without port):
//   <name>.azurecr.io | .azurecr.cn | .azurecr.us | .azurecr.de
//   <name>-<hash>.azurecr.io           (domain-name-label scoped names: one hyphen)
//   <name>.<region>.geo.azurecr.io     (geo-replica "regional endpoint" login
//                                       servers; also .cn and .us, which Azure
//                                       China's endpoint reference documents)
// Never accepted: data endpoints <name>.<region>.data.azurecr.io (blob redirect
// targets, which must never receive a token), look-alikes such as
// x.azurecr.io.evil.com or xazurecr.io.

export type AzureCloud = "public" | "china" | "usgov" | "germany";

export interface AcrLoginServer {
  /** The registry's name, e.g. `myregistry` or `myregistry-abc123`. */
  name: string;
  /** Geo-replica region label, or null for the main login server. */
  region: string | null;
  cloud: AzureCloud;
}

// A registry name is 5–50 alphanumerics; the domain-name-label form adds one
// `-<hash>`. We accept 1–50 so a short test name still matches; the point is
// the anchoring and the label structure, not ACR's naming policy.
const NAME = "[a-z0-9]{1,50}(?:-[a-z0-9]{1,20})?";
const REGION = "[a-z0-9]{1,40}";
const LOGIN_SERVER = new RegExp(`^(${NAME})\\.(?:(${REGION})\\.geo\\.)?azurecr\\.(io|cn|us|de)$`);
// Microsoft Cloud Deutschland closed before regional endpoints existed.
const GEO_CLOUDS = new Set(["io", "cn", "us"]);

const CLOUD_BY_TLD: Readonly<Record<string, AzureCloud>> = { io: "public", cn: "china", us: "usgov", de: "germany" };

export function matchLoginServer(hostname: string): AcrLoginServer | null {
  const m = LOGIN_SERVER.exec(hostname);
  if (m === null) return null;
  const [, name, region, tld] = m;
  if (region !== undefined && !GEO_CLOUDS.has(tld!)) return null;
  return { name: name!, region: region ?? null, cloud: CLOUD_BY_TLD[tld!]! };
}

/**
 * Entra ID authority of each cloud (the values of @azure/identity's
 * AzureAuthorityHosts, copied so the cache-hit path need not load the SDK).
 * Microsoft Cloud Deutschland was retired in 2021; its host is kept so a
 * `.azurecr.de` name never silently asks the public cloud.
 */
export const AUTHORITY_HOSTS: Readonly<Record<AzureCloud, string>> = {
  public: "https://login.microsoftonline.com",
  china: "https://login.chinacloudapi.cn",
  usgov: "https://login.microsoftonline.us",
  germany: "https://login.microsoftonline.de",
};

/**
 * kubelet `matchImages` globs for every host `matchLoginServer` accepts. A `*`
 * matches exactly one DNS label, so `*.*.geo.azurecr.io` covers geo-replicas
 * only: data endpoints (`*.*.data.azurecr.io`) stay out.
 */
export const KUBELET_MATCH_IMAGES = [
  "*.azurecr.io",
  "*.azurecr.cn",
  "*.azurecr.de",
  "*.azurecr.us",
  "*.*.geo.azurecr.io",
  "*.*.geo.azurecr.cn",
  "*.*.geo.azurecr.us",
] as const;
