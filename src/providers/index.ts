// The four helpers, by the suffix of their binary name. Provider modules are
// light (patterns only); each loads its cloud SDK inside fetch.

import type { Provider } from "../provider.ts";
import { provider as ecr } from "./ecr.ts";
import { provider as gcr } from "./gcr.ts";
import { provider as acr } from "./acr.ts";
import { provider as oci } from "./oci.ts";

export const PROVIDERS: Readonly<Record<string, Provider>> = {
  "ecr-login": ecr as Provider,
  gcr: gcr as Provider,
  acr: acr as Provider,
  oci: oci as Provider,
};

export const HELPER_NAMES = Object.keys(PROVIDERS).map((n) => `docker-credential-${n}`);
