// All four providers, loaded eagerly: for commands that look across clouds
// (configure docker routing, configure kubelet). A helper answering the
// Docker or kubelet protocol loads only its own provider (names.ts).

import type { Provider } from "../provider.ts";
import { provider as ecr } from "./ecr.ts";
import { provider as gcr } from "./gcr.ts";
import { provider as acr } from "./acr.ts";
import { provider as oci } from "./oci.ts";
import type { ProviderName } from "./names.ts";

export { HELPER_NAMES } from "./names.ts";

export const PROVIDERS: Readonly<Record<ProviderName, Provider>> & Readonly<Record<string, Provider>> = {
  "ecr-login": ecr as Provider,
  gcr: gcr as Provider,
  acr: acr as Provider,
  oci: oci as Provider,
};
