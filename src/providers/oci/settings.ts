// Per-registry settings of the configuration file for OCIR, and the
// environment overrides, validated into one small object.
//
//   "registries": {
//     "iad.ocir.io": { "auth": "instance_principal" },
//     "127.0.0.1:5000": { "alias": "iad.ocir.io", "auth": "api_key", "configFile": "/etc/oci/config",
//                         "profile": "PULL", "tokenEndpoint": "http://127.0.0.1:5001" }
//   }
//
// auth           api_key | session_token | instance_principal | resource_principal |
//                oke_workload_identity; absent: the automatic order (identity.ts).
//                Defaults to CCH_OCI_AUTH, then OCI_CLI_AUTH (the OCI CLI's variable,
//                where session tokens are called security_token).
// configFile     OCI configuration file; default OCI_CONFIG_FILE, then ~/.oci/config.
// profile        profile in it; default OCI_CLI_PROFILE, then DEFAULT.
// tokenEndpoint  base URL that serves /20180419/docker/token instead of
//                https://<registry>; https, or http to a loopback address only
//                (a test fake, a local proxy). The credential still goes to the
//                host the client asked for.
//
// Environment overrides for instance principals (the SDK exposes them only as
// builder setters; tests point them at local fakes):
// CCH_OCI_METADATA_URL          instance metadata base, default http://169.254.169.254/opc/v2/
// CCH_OCI_FEDERATION_ENDPOINT   federation (auth service) base URL, https or loopback http;
//                               default https://auth.<region>.<realm domain> from the
//                               instance's region.
//
// OKE workload identity (oke.ts), in a pod and in kubelet service-account mode:
// CCH_OCI_PROXYMUX_URL          proxymux base URL (https); default
//                               https://$KUBERNETES_SERVICE_HOST:12250, the port the Go and
//                               Python SDKs use (KUBERNETES_SERVICE_PORT_PROXYMUX, which
//                               oci-common for TypeScript reads, overrides it).
// CCH_OCI_KUBERNETES_CA_FILE    the cluster CA that signs the proxymux's certificate; default
//                               OCI_KUBERNETES_SERVICE_ACCOUNT_CERT_PATH (the SDKs' variable),
//                               then /var/run/secrets/kubernetes.io/serviceaccount/ca.crt.
// CCH_OCI_SERVICE_ACCOUNT_TOKEN_FILE   the token auth=oke_workload_identity exchanges; default
//                               /var/run/secrets/kubernetes.io/serviceaccount/token. (In kubelet
//                               service-account mode the pod's token comes in the request.)

import { ProviderError } from "../../provider.ts";
import type { RegistrySettings } from "../../config.ts";
import { parseSecretEndpoint } from "../../endpoint.ts";

export const TITLE = "Oracle Cloud Infrastructure Registry";
export const SETTINGS_KEYS = ["auth", "configFile", "profile", "tokenEndpoint"] as const;
export const AUTH_KINDS = [
  "api_key",
  "session_token",
  "instance_principal",
  "resource_principal",
  "oke_workload_identity",
] as const;
export type AuthKind = (typeof AUTH_KINDS)[number];
export const DEFAULT_METADATA_URL = "http://169.254.169.254/opc/v2/";

export interface OciSettings {
  /** null: the automatic order. */
  auth: AuthKind | null;
  configFile?: string;
  profile?: string;
  tokenEndpoint?: string;
}

type Env = Readonly<Record<string, string | undefined>>;

const ALIASES: Readonly<Record<string, AuthKind>> = { security_token: "session_token" };

export function parseAuthKind(value: string, where: string): AuthKind {
  const v = value.trim().toLowerCase();
  const kind = ALIASES[v] ?? v;
  if ((AUTH_KINDS as readonly string[]).includes(kind)) return kind as AuthKind;
  throw new ProviderError(`${where}: unknown auth "${value}" (expected ${AUTH_KINDS.join(", ")})`);
}

export function readSettings(settings: RegistrySettings, env: Env): OciSettings {
  const str = (key: string): string | undefined => {
    const v = settings[key];
    if (v === undefined) return undefined;
    if (typeof v !== "string" || v.trim() === "")
      throw new ProviderError(`setting "${key}" must be a non-empty string`);
    return v.trim();
  };
  const auth = str("auth");
  let kind: AuthKind | null = null;
  if (auth !== undefined) kind = parseAuthKind(auth, `setting "auth"`);
  else if (env.CCH_OCI_AUTH) kind = parseAuthKind(env.CCH_OCI_AUTH, "CCH_OCI_AUTH");
  else if (env.OCI_CLI_AUTH) kind = parseAuthKind(env.OCI_CLI_AUTH, "OCI_CLI_AUTH");
  const tokenEndpoint = str("tokenEndpoint");
  return {
    auth: kind,
    configFile: str("configFile"),
    profile: str("profile"),
    tokenEndpoint: tokenEndpoint === undefined ? undefined : checkEndpoint(tokenEndpoint, `setting "tokenEndpoint"`),
  };
}

/**
 * A base URL that will receive a signed request: https anywhere, plain http
 * only on this machine. Returned without a trailing slash.
 */
export function checkEndpoint(value: string, where: string): string {
  const url = parseSecretEndpoint(value);
  if (!url) throw new ProviderError(`${where} must be an https URL, or http to 127.0.0.1 (no user, query or fragment)`);
  return url.href.replace(/\/+$/, "");
}

export function metadataBaseUrl(env: Env): string {
  const url = env.CCH_OCI_METADATA_URL || DEFAULT_METADATA_URL;
  return url.endsWith("/") ? url : url + "/";
}

export function federationOverride(env: Env): string | undefined {
  const v = env.CCH_OCI_FEDERATION_ENDPOINT;
  return v ? checkEndpoint(v, "CCH_OCI_FEDERATION_ENDPOINT") : undefined;
}

export const SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** The OCI SDKs' proxymux port when KUBERNETES_SERVICE_PORT_PROXYMUX does not say otherwise. */
export const PROXYMUX_PORT = "12250";

export function kubernetesCaFile(env: Env): string {
  return env.CCH_OCI_KUBERNETES_CA_FILE || env.OCI_KUBERNETES_SERVICE_ACCOUNT_CERT_PATH || `${SA_DIR}/ca.crt`;
}

export function serviceAccountTokenFile(env: Env): string {
  return env.CCH_OCI_SERVICE_ACCOUNT_TOKEN_FILE || `${SA_DIR}/token`;
}

/** Where the proxymux is: https only, since it receives a service account token. */
export function proxymuxUrl(env: Env): { ok: true; url: string } | { ok: false; reason: string } {
  const explicit = env.CCH_OCI_PROXYMUX_URL;
  if (explicit) {
    const url = checkEndpoint(explicit, "CCH_OCI_PROXYMUX_URL");
    return url.startsWith("https://") ? { ok: true, url } : { ok: false, reason: "CCH_OCI_PROXYMUX_URL must be https" };
  }
  const host = env.KUBERNETES_SERVICE_HOST;
  // The Go and Python SDKs use port 12250; oci-common for TypeScript reads KUBERNETES_SERVICE_PORT_PROXYMUX.
  const port = env.KUBERNETES_SERVICE_PORT_PROXYMUX || PROXYMUX_PORT;
  if (!host) return { ok: false, reason: "KUBERNETES_SERVICE_HOST is not set (or set CCH_OCI_PROXYMUX_URL)" };
  // An IPv6 service address needs brackets in a URL.
  return { ok: true, url: `https://${host.includes(":") ? `[${host}]` : host}:${port}` };
}

/**
 * The audience kubelet asks for when it mints the pod's token for us
 * (tokenAttributes.serviceAccountTokenAudience). OKE workload identity, as the
 * OCI SDKs use it, sends the pod's ordinary API token (the projected
 * serviceaccount/token, or a TokenRequest with no audience), so the proxymux
 * accepts what the cluster's API server accepts: its API audience. This is the
 * Kubernetes/kubeadm default issuer and audience. NOT verified against OKE:
 * check yours with `kubectl create token default | cut -d. -f2 | base64 -d`
 * and change serviceAccountTokenAudience in the kubelet configuration to its `aud`.
 * Note the cost: a token with the API audience is also accepted by the API
 * server as that service account; the helper never logs or keeps it, but this
 * is what OKE's exchange requires as far as the SDKs show. On 1.33+ nodes,
 * ServiceAccountNodeAudienceRestriction may require RBAC allowing the nodes to
 * request this audience (not tested here).
 */
export const OKE_TOKEN_AUDIENCE = "https://kubernetes.default.svc.cluster.local";

/** The provider's lines of `--help`: its settings keys and environment variables. */
export const OCI_HELP_TEXT = `OCIR settings (configuration file, "registries": {"<host>": {…}}):
  auth                     api_key | session_token | instance_principal | resource_principal |
                           oke_workload_identity (default: the first found, in that order,
                           instance principal last)
  configFile, profile      OCI configuration file and profile for api_key / session_token
  tokenEndpoint            base URL serving /20180419/docker/token (https, or http to 127.0.0.1)
  alias                    the OCIR host this name stands for

OCIR environment:
  CCH_OCI_AUTH, OCI_CLI_AUTH          default auth (OCI_CLI_AUTH=security_token is session_token)
  OCI_CONFIG_FILE, OCI_CLI_PROFILE    configuration file (default ~/.oci/config) and profile
  OCI_RESOURCE_PRINCIPAL_*            resource principal: VERSION 2.2 with RPST, PRIVATE_PEM and
                                      REGION (Functions, jobs), or 1.1 with RPT_ENDPOINT (+ RPT_PATH,
                                      RPT_ID, RPST_ENDPOINT; signed by the instance principal); an
                                      incomplete set is skipped, and named
  OCI_RESOURCE_PRINCIPAL_VERSION + OCI_RESOURCE_PRINCIPAL_REGION + KUBERNETES_SERVICE_HOST
                                      OKE workload identity as the OCI SDKs find it: the proxymux on
                                      port 12250 (KUBERNETES_SERVICE_PORT_PROXYMUX overrides it), or
                                      CCH_OCI_PROXYMUX_URL; also used in kubelet service-account
                                      mode, where the pod's token is exchanged
  CCH_OCI_METADATA_URL                instance metadata (default http://169.254.169.254/opc/v2/)
  CCH_OCI_FEDERATION_ENDPOINT         auth service for instance principals (default from the region)
  OCI_KUBERNETES_SERVICE_ACCOUNT_CERT_PATH, CCH_OCI_KUBERNETES_CA_FILE
                                      cluster CA for the proxymux (default <serviceaccount>/ca.crt)
  CCH_OCI_SERVICE_ACCOUNT_TOKEN_FILE  token for auth=oke_workload_identity (default <serviceaccount>/token)
`;
