// The multi-call executable: one binary, four names (hardlinks). Dispatch on
// the name it was started under.

import { helperNameFrom, run } from "./cli.ts";
import { HELPER_NAMES, PROVIDERS } from "./providers/index.ts";

const helperName = helperNameFrom(process.argv0);
const provider = PROVIDERS[helperName.replace(/^docker-credential-/, "")];
if (!provider) {
  process.stderr.write(
    `${helperName}: start this program as one of ${HELPER_NAMES.join(", ")} (a hardlink or symlink of that name)\n`,
  );
  process.exit(1);
}
await run(provider, helperName);
