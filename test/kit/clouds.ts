// The four clouds the kit's scenarios run against, each an adapter over its own fakes.

import { acr } from "./acr.ts";
import { ecr } from "./ecr.ts";
import { gcr } from "./gcr.ts";
import type { CloudStarter } from "./kit.ts";
import { oci } from "./oci.ts";

export const CLOUDS: readonly CloudStarter[] = [ecr, gcr, acr, oci];
