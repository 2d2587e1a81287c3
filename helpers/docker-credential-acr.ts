import { run } from "../src/cli.ts";
import { provider } from "../src/providers/acr.ts";
await run(provider);
