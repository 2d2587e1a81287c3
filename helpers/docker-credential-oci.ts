import { run } from "../src/cli.ts";
import { provider } from "../src/providers/oci.ts";
await run(provider);
