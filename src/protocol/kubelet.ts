// The kubelet image credential provider protocol (credentialprovider.kubelet.k8s.io
// v1alpha1, v1beta1, v1) as pure functions. Kubelet decodes the response
// strictly: no extra fields, the request's apiVersion echoed, a valid
// cacheKeyType, and cacheDuration as a Go duration string.

import { quoteShort } from "../config.ts";
import { firstDuplicateKey } from "../json-keys.ts";
import { parseAuthority, type RegistryHost } from "../registry.ts";

export const KUBELET_API_VERSIONS = [
  "credentialprovider.kubelet.k8s.io/v1",
  "credentialprovider.kubelet.k8s.io/v1beta1",
  "credentialprovider.kubelet.k8s.io/v1alpha1",
] as const;
export type KubeletApiVersion = (typeof KUBELET_API_VERSIONS)[number];

export interface CredentialProviderRequest {
  apiVersion: KubeletApiVersion;
  image: string;
  serviceAccountToken?: string;
  serviceAccountAnnotations?: Record<string, string>;
}

export interface AuthConfig {
  username: string;
  password: string;
}

export interface CredentialProviderResponse {
  kind: "CredentialProviderResponse";
  apiVersion: KubeletApiVersion;
  cacheKeyType: "Registry";
  cacheDuration: string;
  auth: Record<string, AuthConfig>;
}

const REQUEST_KIND = "CredentialProviderRequest";

/**
 * Cheap check used to tell a kubelet request from a Docker `get` server URL on
 * stdin: a JSON object naming the request kind or carrying an `image` (the
 * bare `{"image": "…"}` people type to try a provider by hand).
 */
export function looksLikeKubeletRequest(stdin: string): boolean {
  const t = stdin.trimStart();
  return t.startsWith("{") && (t.includes(REQUEST_KIND) || /"image"\s*:/.test(t));
}

export function parseKubeletRequest(
  stdin: string,
): { ok: true; request: CredentialProviderRequest } | { ok: false; message: string } {
  let data: unknown;
  try {
    data = JSON.parse(stdin);
  } catch {
    return { ok: false, message: "invalid CredentialProviderRequest on stdin: not valid JSON" };
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    return { ok: false, message: "invalid CredentialProviderRequest on stdin: expected a JSON object" };
  }
  const duplicate = firstDuplicateKey(stdin);
  if (duplicate !== null) {
    return { ok: false, message: `invalid CredentialProviderRequest on stdin: the key ${quoteShort(duplicate)} appears twice` };
  }
  const d = { ...(data as Record<string, unknown>) };
  // A request with neither kind nor apiVersion (typed by hand to try a
  // provider) is read as a v1 request, and answered as one.
  if (d.kind === undefined && d.apiVersion === undefined) {
    d.kind = REQUEST_KIND;
    d.apiVersion = KUBELET_API_VERSIONS[0];
  }
  if (d.kind !== REQUEST_KIND) return { ok: false, message: `invalid request: kind must be ${REQUEST_KIND}` };
  if (!(KUBELET_API_VERSIONS as readonly unknown[]).includes(d.apiVersion)) {
    return {
      ok: false,
      message: `unsupported apiVersion ${quoteShort(d.apiVersion)} (expected one of ${KUBELET_API_VERSIONS.join(", ")})`,
    };
  }
  if (typeof d.image !== "string" || d.image.trim() === "") return { ok: false, message: "invalid request: image is required" };
  const request: CredentialProviderRequest = { apiVersion: d.apiVersion as KubeletApiVersion, image: d.image.trim() };
  if (d.serviceAccountToken !== undefined && d.serviceAccountToken !== "") {
    if (typeof d.serviceAccountToken !== "string")
      return { ok: false, message: "invalid request: serviceAccountToken must be a string" };
    request.serviceAccountToken = d.serviceAccountToken;
  }
  if (d.serviceAccountAnnotations !== undefined && d.serviceAccountAnnotations !== null) {
    const a = d.serviceAccountAnnotations;
    if (typeof a !== "object" || Array.isArray(a) || !Object.values(a).every((v) => typeof v === "string")) {
      return { ok: false, message: "invalid request: serviceAccountAnnotations must map strings to strings" };
    }
    request.serviceAccountAnnotations = { ...(a as Record<string, string>) };
  }
  return { ok: true, request };
}

/**
 * The registry host of an image reference, with or without tag, digest or
 * port (`nginx`, `docker.io/library/nginx:1`, `host:5000/a/b@sha256:…`).
 * As in the Docker reference grammar, the first path component is a host
 * only if it has a dot or a colon or is `localhost`; otherwise it is Docker Hub.
 */
export function imageHost(image: string): { ok: true; host: RegistryHost } | { ok: false; reason: string } {
  let ref = image.trim().replace(/^https?:\/\//i, "");
  if (ref === "" || /\s/.test(ref)) return { ok: false, reason: "invalid image reference" };
  const at = ref.indexOf("@");
  if (at !== -1) ref = ref.slice(0, at);
  const slash = ref.indexOf("/");
  const first = slash === -1 ? "" : ref.slice(0, slash);
  const isHost = first !== "" && (first.includes(".") || first.includes(":") || first === "localhost");
  if (!isHost) return parseAuthority("docker.io");
  return parseAuthority(first);
}

/** Go duration text for a non-negative number of milliseconds, in whole seconds: "5h59m30s", "0s". */
export function formatGoDuration(ms: number): string {
  let s = Math.max(0, Math.floor(ms / 1000));
  if (s === 0) return "0s";
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return `${h ? `${h}h` : ""}${h || m ? `${m}m` : ""}${s}s`;
}

export function encodeKubeletResponse(
  apiVersion: KubeletApiVersion,
  cacheDurationMs: number,
  auth: Record<string, AuthConfig>,
): string {
  const response: CredentialProviderResponse = {
    kind: "CredentialProviderResponse",
    apiVersion,
    cacheKeyType: "Registry",
    cacheDuration: formatGoDuration(cacheDurationMs),
    auth,
  };
  return JSON.stringify(response) + "\n";
}

/** How long kubelet may keep a credential: half its remaining life, so it asks again well before expiry. */
export function kubeletCacheDurationMs(expiresAt: Date, now: Date, capMs: number): number {
  const remaining = expiresAt.getTime() - now.getTime();
  return Math.max(0, Math.min(Math.floor(remaining / 2), capMs));
}
