// The multi-call executable: one binary, four names (hardlinks). Dispatch on
// the name it was started under, loading only that helper's provider.

import { helperNameFrom, run } from "./cli.ts";
import { HELPER_NAMES, isProviderName, loadProvider } from "./providers/index.ts";

const helperName = helperNameFrom(process.argv0);
const name = helperName.replace(/^docker-credential-/, "");
if (!isProviderName(name)) {
  process.stderr.write(
    `${helperName}: start this program as one of ${HELPER_NAMES.join(", ")} (a hardlink or symlink of that name)\n`,
  );
  process.exit(1);
}
await run(await loadProvider(name), helperName);
