// kubelet's reading of a CredentialProviderConfig, per Kubernetes minor
// version, written from the kubelet.config.k8s.io/v1 Go types at each release
// (k8s.io/kubelet config/v1/types.go, tags 1.26 … 1.36) and kubelet's
// validation (pkg/credentialprovider/plugin/config.go):
// - decoding is strict: an unknown or duplicate field fails, at every level;
// - 1.26–1.32 know name, matchImages, defaultCacheDuration, apiVersion, args, env;
// - 1.33 adds tokenAttributes {serviceAccountTokenAudience, requireServiceAccount,
//   requiredServiceAccountAnnotationKeys, optionalServiceAccountAnnotationKeys},
//   accepted only with the KubeletServiceAccountTokenForCredentialProviders gate on;
// - 1.34 adds tokenAttributes.cacheType (Token | ServiceAccount), required; the gate is on by default.
// Returns the list of errors kubelet would report (empty: it starts).

import { parseGoDuration } from "./kubelet.ts";

export const OLDEST = 26;
export const NEWEST = 36;

const TOP = ["apiVersion", "kind", "providers"];
const PROVIDER = ["name", "matchImages", "defaultCacheDuration", "apiVersion", "args", "env"];
const TOKEN_ATTRIBUTES_133 = [
  "serviceAccountTokenAudience",
  "requireServiceAccount",
  "requiredServiceAccountAnnotationKeys",
  "optionalServiceAccountAnnotationKeys",
];
const PLUGIN_API_VERSIONS = [
  "credentialprovider.kubelet.k8s.io/v1",
  "credentialprovider.kubelet.k8s.io/v1beta1",
  "credentialprovider.kubelet.k8s.io/v1alpha1",
];

export interface ValidateOptions {
  /** The KubeletServiceAccountTokenForCredentialProviders gate (default: its default for the version). */
  featureGate?: boolean;
}

export function validateCredentialProviderConfig(doc: unknown, minor: number, options: ValidateOptions = {}): string[] {
  const errors: string[] = [];
  const gate = options.featureGate ?? minor >= 34;
  const obj = (v: unknown, path: string): Record<string, unknown> | null => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      errors.push(`${path}: expected an object`);
      return null;
    }
    return v as Record<string, unknown>;
  };
  const known = (o: Record<string, unknown>, fields: string[], path: string) => {
    for (const k of Object.keys(o)) if (!fields.includes(k)) errors.push(`${path}: unknown field "${k}"`);
  };
  const stringList = (v: unknown, path: string): string[] => {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) {
      errors.push(`${path}: expected a list of strings`);
      return [];
    }
    return v as string[];
  };

  const top = obj(doc, "config");
  if (!top) return errors;
  known(top, TOP, "config");
  if (top.apiVersion !== "kubelet.config.k8s.io/v1") errors.push(`apiVersion: ${String(top.apiVersion)} is not kubelet.config.k8s.io/v1`);
  if (top.kind !== "CredentialProviderConfig") errors.push(`kind: ${String(top.kind)} is not CredentialProviderConfig`);
  if (!Array.isArray(top.providers) || top.providers.length === 0) {
    errors.push("providers: at least 1 item in plugins is required");
    return errors;
  }
  const names = new Set<string>();
  top.providers.forEach((raw, i) => {
    const path = `providers[${i}]`;
    const p = obj(raw, path);
    if (!p) return;
    known(p, minor >= 33 ? [...PROVIDER, "tokenAttributes"] : PROVIDER, path);
    const name = p.name;
    if (typeof name !== "string" || name === "") errors.push(`${path}.name: required`);
    else {
      if (name.includes("/")) errors.push(`${path}.name: provider name cannot contain '/'`);
      if (name.includes(" ")) errors.push(`${path}.name: provider name cannot contain spaces`);
      if (name === "." || name === "..") errors.push(`${path}.name: provider name cannot be '${name}'`);
      if (names.has(name)) errors.push(`${path}.name: duplicate ${name}`);
      names.add(name);
    }
    if (typeof p.apiVersion !== "string" || p.apiVersion === "") errors.push(`${path}.apiVersion: required`);
    else if (!PLUGIN_API_VERSIONS.includes(p.apiVersion)) errors.push(`${path}.apiVersion: unsupported ${p.apiVersion}`);
    const images = stringList(p.matchImages, `${path}.matchImages`);
    if (images.length === 0) errors.push(`${path}.matchImages: at least 1 item in matchImages is required`);
    for (const m of images) {
      const problem = matchImageProblem(m);
      if (problem) errors.push(`${path}.matchImages: ${JSON.stringify(m)}: ${problem}`);
    }
    if (p.defaultCacheDuration === undefined || p.defaultCacheDuration === null) errors.push(`${path}.defaultCacheDuration: required`);
    else if (typeof p.defaultCacheDuration !== "string") errors.push(`${path}.defaultCacheDuration: expected a Go duration string`);
    else {
      try {
        parseGoDuration(p.defaultCacheDuration);
      } catch {
        errors.push(`${path}.defaultCacheDuration: invalid duration ${p.defaultCacheDuration}`);
      }
    }
    stringList(p.args, `${path}.args`);
    if (p.env !== undefined && p.env !== null) {
      if (!Array.isArray(p.env)) errors.push(`${path}.env: expected a list`);
      else
        p.env.forEach((e, j) => {
          const ev = obj(e, `${path}.env[${j}]`);
          if (!ev) return;
          known(ev, ["name", "value"], `${path}.env[${j}]`);
          if (typeof ev.name !== "string" || typeof ev.value !== "string") errors.push(`${path}.env[${j}]: name and value must be strings`);
        });
    }
    if (p.tokenAttributes === undefined || minor < 33) return;
    const tpath = `${path}.tokenAttributes`;
    const t = obj(p.tokenAttributes, tpath);
    if (!t) return;
    if (!gate) errors.push(`${tpath}: tokenAttributes is not supported when KubeletServiceAccountTokenForCredentialProviders feature gate is disabled`);
    known(t, minor >= 34 ? [...TOKEN_ATTRIBUTES_133, "cacheType"] : TOKEN_ATTRIBUTES_133, tpath);
    if (typeof t.serviceAccountTokenAudience !== "string" || t.serviceAccountTokenAudience === "") {
      errors.push(`${tpath}.serviceAccountTokenAudience: required`);
    }
    if (typeof t.requireServiceAccount !== "boolean") errors.push(`${tpath}.requireServiceAccount: required (true or false)`);
    if (p.apiVersion !== "credentialprovider.kubelet.k8s.io/v1") errors.push(`${tpath}: only supported for credentialprovider.kubelet.k8s.io/v1`);
    const required = stringList(t.requiredServiceAccountAnnotationKeys, `${tpath}.requiredServiceAccountAnnotationKeys`);
    const optional = stringList(t.optionalServiceAccountAnnotationKeys, `${tpath}.optionalServiceAccountAnnotationKeys`);
    if (t.requireServiceAccount === false && required.length > 0) {
      errors.push(`${tpath}.requiredServiceAccountAnnotationKeys: requireServiceAccount cannot be false when requiredServiceAccountAnnotationKeys is set`);
    }
    for (const [list, which] of [
      [required, "requiredServiceAccountAnnotationKeys"],
      [optional, "optionalServiceAccountAnnotationKeys"],
    ] as const) {
      const seen = new Set<string>();
      for (const k of list) {
        if (!isQualifiedName(k.toLowerCase())) errors.push(`${tpath}.${which}: ${JSON.stringify(k)} is not a qualified name`);
        if (seen.has(k)) errors.push(`${tpath}.${which}: duplicate ${k}`);
        seen.add(k);
      }
    }
    if (required.some((k) => optional.includes(k))) errors.push(`${tpath}: annotation keys cannot be both required and optional`);
    if (minor >= 34) {
      if (t.cacheType === undefined || t.cacheType === "") errors.push(`${tpath}.cacheType: required (Token or ServiceAccount)`);
      else if (t.cacheType !== "Token" && t.cacheType !== "ServiceAccount") errors.push(`${tpath}.cacheType: unsupported ${String(t.cacheType)}`);
    }
  });
  // Before 1.33 tokenAttributes is an unknown field: already reported by known().
  return errors;
}

/** kubelet's ParseSchemelessURL, plus its rule that globs are only in the host. */
function matchImageProblem(m: string): string | null {
  if (m === "") return "empty";
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(m)) return "must not carry a scheme";
  const slash = m.indexOf("/");
  const hostport = slash === -1 ? m : m.slice(0, slash);
  const path = slash === -1 ? "" : m.slice(slash);
  if (path.includes("*")) return "globs are not allowed in the path";
  let url: URL;
  try {
    url = new URL(`https://${hostport.replaceAll("*", "x")}${path}`);
  } catch {
    return "not a valid URL";
  }
  const colon = hostport.lastIndexOf(":");
  if (colon !== -1 && !/^\d+$/.test(hostport.slice(colon + 1))) return "invalid port";
  return url.hostname === "" ? "no host" : null;
}

/** apimachinery's IsQualifiedName: [prefix/]name, name ≤ 63 chars, prefix a DNS subdomain. */
function isQualifiedName(value: string): boolean {
  const parts = value.split("/");
  if (parts.length > 2) return false;
  const name = parts[parts.length - 1]!;
  if (name.length === 0 || name.length > 63 || !/^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/.test(name)) return false;
  if (parts.length === 2) {
    const prefix = parts[0]!;
    if (prefix.length === 0 || prefix.length > 253) return false;
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(prefix)) return false;
  }
  return true;
}
