import { run } from "../src/cli.ts";
import { provider } from "../src/providers/ecr.ts";
await run(provider);
