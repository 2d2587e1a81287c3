// The multi-call executable: one binary, many names (hardlinks). Dispatch on
// the name it was started under, loading only that helper's provider; an
// upstream plugin's name (src/upstream/) runs as the provider it stands for.

import { helperNameFrom, run, runUpstream } from "./cli.ts";
import { HELPER_NAMES, isProviderName, loadProvider } from "./providers/index.ts";

const helperName = helperNameFrom(process.argv0);
const name = helperName.replace(/^docker-credential-/, "");
if (!isProviderName(name)) await runUpstream(helperName);
if (!isProviderName(name)) {
  process.stderr.write(
    `${helperName}: start this program as one of ${HELPER_NAMES.join(", ")} (a hardlink or symlink of that name)\n`,
  );
  process.exit(1);
}
await run(await loadProvider(name), helperName);
