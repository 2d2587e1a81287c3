// The one list of providers. Each loads lazily, so a helper answering the
// Docker or kubelet protocol loads only its own provider (start-up time and
// RSS); commands that look across clouds load them all.

import type { Provider } from "../provider.ts";

export const PROVIDER_NAMES = ["ecr-login", "gcr", "acr", "oci"] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];
export const HELPER_NAMES = PROVIDER_NAMES.map((n) => `docker-credential-${n}`);

const LOADERS: Readonly<Record<ProviderName, () => Promise<Provider>>> = {
  "ecr-login": async () => (await import("./ecr.ts")).provider as Provider,
  gcr: async () => (await import("./gcr.ts")).provider as Provider,
  acr: async () => (await import("./acr.ts")).provider as Provider,
  oci: async () => (await import("./oci.ts")).provider as Provider,
};

export function isProviderName(name: string): name is ProviderName {
  return (PROVIDER_NAMES as readonly string[]).includes(name);
}

export function loadProvider(name: ProviderName): Promise<Provider> {
  return LOADERS[name]();
}

/** Every provider, in PROVIDER_NAMES order. */
export function loadAllProviders(): Promise<Provider[]> {
  return Promise.all(PROVIDER_NAMES.map((n) => LOADERS[n]()));
}
