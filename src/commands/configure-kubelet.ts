// `configure kubelet`: print a CredentialProviderConfig (kubelet.config.k8s.io/v1)
// for this helper or the ones named, whose matchImages cover every host each
// provider serves under kubelet's one-label-per-glob rule.

import type { CommandIo, Provider } from "../provider.ts";
import { loadAllProviders } from "../providers/index.ts";
import { toYaml, type YamlValue } from "./yaml.ts";

export const KUBELET_USAGE = `Usage: <helper> configure kubelet [--providers ecr-login,gcr,acr,oci] [--service-account-tokens]
                                 [--service-account-token-audience AUD] [--format yaml|json] [--default-cache-duration 1h]

Prints a kubelet CredentialProviderConfig. Install the binaries in kubelet's
--image-credential-provider-bin-dir and pass the file as --image-credential-provider-config.
--service-account-tokens adds tokenAttributes, so kubelet sends the pod's service
account token and the helper pulls with the pod's identity (KEP-4412; Kubernetes 1.33+);
--service-account-token-audience sets the audience (GKE: <project>.svc.id.goog).
`;

interface Options {
  providers: Provider[];
  serviceAccountTokens: boolean;
  /** Overrides each provider's serviceAccountTokenAudience (GKE's depends on the project). */
  audience: string | null;
  format: "yaml" | "json";
  defaultCacheDuration: string;
}

export function parseKubeletOptions(args: string[], self: Provider, all: readonly Provider[]): Options | string {
  const opts: Options = {
    providers: [self],
    serviceAccountTokens: false,
    audience: null,
    format: "yaml",
    defaultCacheDuration: "1h",
  };
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const value = () => inline ?? args[++i];
    switch (flag) {
      case "--providers": {
        const names = (value() ?? "")
          .split(",")
          .map((n) => n.trim().replace(/^docker-credential-/, ""))
          .filter(Boolean);
        if (names.length === 0) return "--providers needs a list such as ecr-login,gcr,acr,oci";
        const byName = new Map(all.map((p) => [p.manifest.name, p]));
        const unknown = names.filter((n) => !byName.has(n));
        if (unknown.length) return `unknown provider ${unknown.join(", ")} (known: ${[...byName.keys()].join(", ")})`;
        opts.providers = [...new Set(names)].map((n) => byName.get(n)!);
        break;
      }
      case "--service-account-tokens":
        opts.serviceAccountTokens = true;
        break;
      case "--service-account-token-audience": {
        const a = (value() ?? "").trim();
        if (a === "") return "--service-account-token-audience needs a value";
        opts.audience = a;
        opts.serviceAccountTokens = true;
        break;
      }
      case "--format": {
        const f = value();
        if (f !== "yaml" && f !== "json") return "--format must be yaml or json";
        opts.format = f;
        break;
      }
      case "--default-cache-duration": {
        const d = value() ?? "";
        if (!/^(\d+h)?(\d+m)?(\d+s)?$/.test(d) || d === "")
          return "--default-cache-duration must be a Go duration such as 1h or 10m";
        opts.defaultCacheDuration = d;
        break;
      }
      default:
        return `unknown option ${args[i]}`;
    }
  }
  return opts;
}

export function credentialProviderConfig(opts: Options): Record<string, YamlValue> | string {
  const providers: YamlValue[] = [];
  for (const { manifest } of opts.providers) {
    const name = `docker-credential-${manifest.name}`;
    const entry: Record<string, YamlValue> = {
      name,
      matchImages: [...manifest.kubeletMatchImages],
      defaultCacheDuration: opts.defaultCacheDuration,
      apiVersion: "credentialprovider.kubelet.k8s.io/v1",
      args: ["get-credentials"],
    };
    if (opts.serviceAccountTokens) {
      const sa = manifest.serviceAccountTokens;
      const attrs: Record<string, YamlValue> = {
        serviceAccountTokenAudience: opts.audience ?? sa.audience,
        // Cache per service account, so one pod's credential never serves another.
        cacheType: "ServiceAccount",
        // kubelet refuses requireServiceAccount: false when annotation keys are required.
        requireServiceAccount: (sa.requiredAnnotationKeys?.length ?? 0) > 0,
      };
      if (sa.requiredAnnotationKeys?.length) attrs.requiredServiceAccountAnnotationKeys = [...sa.requiredAnnotationKeys];
      if (sa.optionalAnnotationKeys?.length) attrs.optionalServiceAccountAnnotationKeys = [...sa.optionalAnnotationKeys];
      entry.tokenAttributes = attrs;
      if (sa.env && Object.keys(sa.env).length) entry.env = Object.entries(sa.env).map(([name, value]) => ({ name, value }));
    }
    providers.push(entry);
  }
  return { apiVersion: "kubelet.config.k8s.io/v1", kind: "CredentialProviderConfig", providers };
}

export async function configureKubelet(args: string[], io: CommandIo): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    io.stdout(KUBELET_USAGE.replaceAll("<helper>", io.helperName));
    return 0;
  }
  const opts = parseKubeletOptions(args, io.provider, await loadAllProviders());
  if (typeof opts === "string") {
    io.stderr(`${io.helperName} configure kubelet: ${opts}\n`);
    return 1;
  }
  const config = credentialProviderConfig(opts);
  if (typeof config === "string") {
    io.stderr(`${io.helperName} configure kubelet: ${config}\n`);
    return 1;
  }
  io.stdout(opts.format === "json" ? JSON.stringify(config, null, 2) + "\n" : toYaml(config));
  return 0;
}
