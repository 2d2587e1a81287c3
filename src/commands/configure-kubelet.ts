// `configure kubelet`: print a CredentialProviderConfig (kubelet.config.k8s.io/v1)
// for this helper or the ones named, whose matchImages cover every host each
// provider serves under kubelet's one-label-per-glob rule, plus the hosts the
// configuration file aliases to them. Only the fields the target Kubernetes
// version accepts are written (kubelet decodes its configuration strictly).

import { parseArgs, type ParseArgsConfig } from "node:util";
import type { CommandIo, Provider } from "../provider.ts";
import type { Config } from "../config.ts";
import { loadAllProviders, PROVIDER_NAMES } from "../providers/index.ts";
import { toYaml, type YamlValue } from "./yaml.ts";
import { FEATURE_GATE, NEWEST_MINOR, featuresOf, parseKubernetesVersion } from "./kubelet-versions.ts";
import { audienceRbac } from "./kubelet-rbac.ts";

export const KUBELET_USAGE = `Usage: <helper> configure kubelet [--providers ${PROVIDER_NAMES.join(",")}] [--kubernetes-version 1.${NEWEST_MINOR}]
         [--service-account-tokens] [--service-account-token-audience [PROVIDER=]AUDIENCE]…
         [--gcr-identity-provider URL] [--gcr-workload-pool POOL] [--oci-proxymux-url URL]
         [--format yaml|json] [--default-cache-duration 1h] [--rbac]

Prints a kubelet CredentialProviderConfig. Install the binaries in kubelet's
--image-credential-provider-bin-dir and pass the file as --image-credential-provider-config.
--kubernetes-version X.Y (1.26 to 1.${NEWEST_MINOR}; default 1.${NEWEST_MINOR}) writes only the fields
that kubelet version accepts.
--service-account-tokens adds tokenAttributes (Kubernetes 1.33+), so kubelet sends the
pod's service account token and the helper pulls with the pod's identity. Each provider
asks for its own audience; --service-account-token-audience PROVIDER=AUDIENCE changes
one (a bare AUDIENCE only when one provider is named). Google needs the cluster's
--gcr-identity-provider and --gcr-workload-pool (<project>.svc.id.goog, also its
audience); Oracle needs --oci-proxymux-url (https://<API private endpoint IP>:12250).
kubelet may only request audiences RBAC grants the nodes: the ClusterRoles and
bindings are printed on stderr, or alone on stdout with --rbac.
`;

/** A flag that fills a provider's cluster-specific environment in service-account mode (from its manifest). */
interface EnvFlag {
  flag: string;
  provider: string;
  env: string;
  check: RegExp;
  example: string;
  audience?: boolean;
}

function envFlagsOf(providers: readonly Provider[]): EnvFlag[] {
  return providers.flatMap(({ manifest }) =>
    (manifest.serviceAccountTokens.flags ?? []).map((f) => ({ ...f, provider: manifest.name })),
  );
}

export interface KubeletOptions {
  providers: Provider[];
  serviceAccountTokens: boolean;
  /** Audience per provider name, from --service-account-token-audience (or --gcr-workload-pool). */
  audiences: Map<string, string>;
  /** A bare --service-account-token-audience: allowed only with one provider. */
  bareAudience: string | null;
  /** Environment per provider name, from the providers' env flags. */
  env: Map<string, Map<string, string>>;
  format: "yaml" | "json";
  defaultCacheDuration: string;
  minor: number;
  /** True when --kubernetes-version was given. */
  versionGiven: boolean;
  rbac: boolean;
  /** Every provider's env flags (they are accepted only with their provider). */
  envFlags: EnvFlag[];
}

/** configure kubelet's options, for node:util parseArgs (install takes them too). */
export function kubeletOptionSpec(all: readonly Provider[]): NonNullable<ParseArgsConfig["options"]> {
  return {
    providers: { type: "string" },
    "service-account-tokens": { type: "boolean" },
    "service-account-token-audience": { type: "string", multiple: true },
    "kubernetes-version": { type: "string" },
    format: { type: "string" },
    "default-cache-duration": { type: "string" },
    rbac: { type: "boolean" },
    ...Object.fromEntries(envFlagsOf(all).map((f) => [f.flag.slice(2), { type: "string" as const }])),
  };
}

export function parseKubeletOptions(args: string[], self: Provider, all: readonly Provider[]): KubeletOptions | string {
  const byName = new Map(all.map((p) => [p.manifest.name, p]));
  const opts: KubeletOptions = {
    providers: [self],
    serviceAccountTokens: false,
    audiences: new Map(),
    bareAudience: null,
    env: new Map(),
    format: "yaml",
    defaultCacheDuration: "1h",
    minor: NEWEST_MINOR,
    versionGiven: false,
    rbac: false,
    envFlags: envFlagsOf(all),
  };
  const spec = kubeletOptionSpec(all);
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    ({ values } = parseArgs({ args, options: spec, strict: true, allowPositionals: false }));
  } catch (err) {
    return (err as Error).message.replace(/\. To specify a positional argument.*$/s, "");
  }
  const text = (name: string): string | undefined => {
    const v = values[name];
    return typeof v === "string" ? v.trim() : undefined;
  };

  for (const envFlag of opts.envFlags) {
    const v = text(envFlag.flag.slice(2));
    if (v === undefined) continue;
    if (!envFlag.check.test(v)) return `${envFlag.flag} must look like ${envFlag.example}`;
    if (!opts.env.has(envFlag.provider)) opts.env.set(envFlag.provider, new Map());
    opts.env.get(envFlag.provider)!.set(envFlag.env, v);
    if (envFlag.audience && !opts.audiences.has(envFlag.provider)) opts.audiences.set(envFlag.provider, v);
    opts.serviceAccountTokens = true;
  }
  const providers = text("providers");
  if (providers !== undefined) {
    const names = providers
      .split(",")
      .map((n) => n.trim().replace(/^docker-credential-/, ""))
      .filter(Boolean);
    if (names.length === 0) return `--providers needs a list such as ${PROVIDER_NAMES.join(",")}`;
    const unknown = names.filter((n) => !byName.has(n));
    if (unknown.length) return `unknown provider ${unknown.join(", ")} (known: ${[...byName.keys()].join(", ")})`;
    opts.providers = [...new Set(names)].map((n) => byName.get(n)!);
  }
  if (values["service-account-tokens"] === true) opts.serviceAccountTokens = true;
  const audienceFlags = ((values["service-account-token-audience"] ?? []) as string[]).map((a) => a.trim());
  for (const a of audienceFlags) {
    if (a === "") return "--service-account-token-audience needs a value: PROVIDER=AUDIENCE, or AUDIENCE with one provider";
    opts.serviceAccountTokens = true;
  }
  const version = text("kubernetes-version");
  if (version !== undefined) {
    const minor = parseKubernetesVersion(version);
    if (typeof minor === "string") return minor;
    opts.minor = minor;
    opts.versionGiven = true;
  }
  const format = text("format");
  if (format !== undefined) {
    if (format !== "yaml" && format !== "json") return "--format must be yaml or json";
    opts.format = format;
  }
  const duration = text("default-cache-duration");
  if (duration !== undefined) {
    if (!/^(\d+h)?(\d+m)?(\d+s)?$/.test(duration) || duration === "")
      return "--default-cache-duration must be a Go duration such as 1h or 10m";
    opts.defaultCacheDuration = duration;
  }
  if (values.rbac === true) {
    opts.rbac = true;
    opts.serviceAccountTokens = true;
  }
  // PROVIDER=AUDIENCE when PROVIDER is a known name; anything else is a bare audience.
  const names = new Set(opts.providers.map((p) => p.manifest.name));
  for (const a of audienceFlags) {
    const m = /^(?:docker-credential-)?([a-z-]+)=(.+)$/s.exec(a);
    if (m && byName.has(m[1]!)) {
      if (!names.has(m[1]!)) return `--service-account-token-audience ${a}: ${m[1]} is not among --providers`;
      opts.audiences.set(m[1]!, m[2]!.trim());
    } else if (opts.providers.length === 1) {
      opts.bareAudience = a;
    } else {
      return `--service-account-token-audience ${a}: name the provider (PROVIDER=AUDIENCE) when several are configured`;
    }
  }
  if (opts.bareAudience !== null) opts.audiences.set(opts.providers[0]!.manifest.name, opts.bareAudience);
  for (const [provider] of opts.env) {
    if (!names.has(provider)) return `${opts.envFlags.find((f) => f.provider === provider)!.flag} is for ${provider}, which is not among --providers`;
  }
  return opts;
}

export interface KubeletConfigOutput {
  config: Record<string, YamlValue>;
  /** Audience → providers asking for it (service-account mode). */
  audiences: Map<string, string[]>;
  /** What is still a <placeholder>, each with the flag that fills it. */
  placeholders: string[];
  /** Things to tell the operator (feature gate, RBAC). */
  notes: string[];
}

const PLACEHOLDER = /<[^<>]+>/;

/** The hosts `config` aliases to a cloud registry `p` serves, as `host[:port]`. */
function aliasedHosts(p: Provider, config: Config | null): string[] {
  const hosts: string[] = [];
  for (const [host, settings] of config?.registries ?? []) {
    if (settings.alias !== undefined && p.match(settings.alias) !== null) hosts.push(host);
  }
  return hosts;
}

export function credentialProviderConfig(opts: KubeletOptions, fileConfig: Config | null = null): KubeletConfigOutput | string {
  const features = featuresOf(opts.minor);
  if (opts.serviceAccountTokens && !features.tokenAttributes) {
    return `service account tokens need Kubernetes 1.33 or newer (--kubernetes-version is 1.${opts.minor})`;
  }
  const providers: YamlValue[] = [];
  const audiences = new Map<string, string[]>();
  const placeholders: string[] = [];
  for (const p of opts.providers) {
    const { manifest } = p;
    const name = `docker-credential-${manifest.name}`;
    const matchImages = [...manifest.kubeletMatchImages];
    for (const host of aliasedHosts(p, fileConfig)) if (!matchImages.includes(host)) matchImages.push(host);
    const entry: Record<string, YamlValue> = {
      name,
      matchImages,
      defaultCacheDuration: opts.defaultCacheDuration,
      apiVersion: "credentialprovider.kubelet.k8s.io/v1",
      args: ["get-credentials"],
    };
    if (opts.serviceAccountTokens) {
      const sa = manifest.serviceAccountTokens;
      const audience = opts.audiences.get(manifest.name) ?? sa.audience;
      const attrs: Record<string, YamlValue> = { serviceAccountTokenAudience: audience };
      // Cache per service account, so one pod's credential never serves another.
      if (features.cacheType) attrs.cacheType = "ServiceAccount";
      // kubelet refuses requireServiceAccount: false when annotation keys are required.
      attrs.requireServiceAccount = (sa.requiredAnnotationKeys?.length ?? 0) > 0;
      if (sa.requiredAnnotationKeys?.length) attrs.requiredServiceAccountAnnotationKeys = [...sa.requiredAnnotationKeys];
      if (sa.optionalAnnotationKeys?.length) attrs.optionalServiceAccountAnnotationKeys = [...sa.optionalAnnotationKeys];
      entry.tokenAttributes = attrs;
      if (PLACEHOLDER.test(audience)) {
        const fill = opts.envFlags.filter((f) => f.provider === manifest.name && f.audience).map((f) => `${f.flag} or `);
        placeholders.push(`${manifest.name}: the token audience (${fill.join("")}--service-account-token-audience ${manifest.name}=AUDIENCE)`);
      }
      const env = { ...(sa.env ?? {}), ...Object.fromEntries(opts.env.get(manifest.name) ?? []) };
      for (const [k, v] of Object.entries(env)) {
        if (!PLACEHOLDER.test(v)) continue;
        const flag = opts.envFlags.find((f) => f.env === k)?.flag ?? `the environment variable ${k}`;
        placeholders.push(`${manifest.name}: ${k} (${flag})`);
      }
      if (Object.keys(env).length) entry.env = Object.entries(env).map(([name, value]) => ({ name, value }));
      audiences.set(audience, [...(audiences.get(audience) ?? []), manifest.name]);
    }
    providers.push(entry);
  }
  const notes: string[] = [];
  if (opts.serviceAccountTokens) {
    if (features.needsFeatureGate) {
      notes.push(`Kubernetes 1.33: kubelet needs the feature gate ${FEATURE_GATE}=true (--feature-gates or featureGates in its configuration)`);
    }
    notes.push(
      `kubelet may request only the token audiences RBAC grants system:nodes (${[...audiences.keys()].join(", ")}); apply these (or: configure kubelet --rbac … | kubectl apply -f -):`,
    );
  }
  return {
    config: { apiVersion: "kubelet.config.k8s.io/v1", kind: "CredentialProviderConfig", providers },
    audiences,
    placeholders,
    notes,
  };
}

export function renderDocs(docs: Array<Record<string, YamlValue>>, format: "yaml" | "json"): string {
  if (format === "json") {
    return JSON.stringify(docs.length === 1 ? docs[0] : { apiVersion: "v1", kind: "List", items: docs }, null, 2) + "\n";
  }
  return docs.map((d) => toYaml(d)).join("---\n");
}

export async function configureKubelet(args: string[], io: CommandIo): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    io.stdout(KUBELET_USAGE.replaceAll("<helper>", io.helperName));
    return 0;
  }
  const fail = (message: string) => {
    io.stderr(`${io.helperName} configure kubelet: ${message}\n`);
    return 1;
  };
  const opts = parseKubeletOptions(args, io.provider, await loadAllProviders());
  if (typeof opts === "string") return fail(opts);
  let fileConfig: Config;
  try {
    const { loadConfig, resolvePaths } = await import("../paths.ts");
    fileConfig = loadConfig(resolvePaths(io.env, io.provider.manifest).configFile);
  } catch (err) {
    return fail((err as Error).message);
  }
  const out = credentialProviderConfig(opts, fileConfig);
  if (typeof out === "string") return fail(out);
  const rbac = audienceRbac(out.audiences);
  if (opts.rbac) {
    io.stdout(renderDocs(rbac, opts.format));
    return 0;
  }
  io.stdout(renderDocs([out.config], opts.format));
  for (const p of out.placeholders) io.stderr(`warning: still a placeholder, replace it before use: ${p}\n`);
  for (const n of out.notes) io.stderr(`note: ${n}\n`);
  if (rbac.length) io.stderr(renderDocs(rbac, "yaml"));
  return 0;
}
