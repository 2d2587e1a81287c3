import { run } from "../src/cli.ts";
import { provider } from "../src/providers/gcr.ts";
await run(provider);
