// Runs the ACR provider's fetch in a fresh process (so NODE_EXTRA_CA_CERTS is
// read at start-up, as in the helper) for modes the CLI cannot drive yet, such
// as kubelet's service-account-token mode. Input on stdin:
//   {"host": "...", "registry": "...", "settings": {...}, "serviceAccount": {...}, "timeoutMs": 5000}
// Output: {"ok": true, "username", "secret", "expiresAt"} or {"ok": false, "error"}.

import { EMPTY_CONFIG } from "../../../src/config.ts";
import { silentLogger } from "../../../src/log.ts";
import type { Context } from "../../../src/provider.ts";
import { provider } from "../../../src/providers/acr.ts";
import { parseServerUrl } from "../../../src/registry.ts";

const input = JSON.parse(await Bun.stdin.text());
const parsed = parseServerUrl(input.host);
if (!parsed.ok) throw new Error(parsed.reason);
const timeoutMs: number = input.timeoutMs ?? 5000;
const ctx: Context = {
  env: process.env,
  now: () => new Date(),
  log: silentLogger,
  signal: AbortSignal.timeout(timeoutMs),
  deadline: Date.now() + timeoutMs,
  config: EMPTY_CONFIG,
  serviceAccount: input.serviceAccount,
};
const details = provider.match(input.registry);
if (!details) throw new Error("not an ACR host");
const target = { host: parsed.host, registry: input.registry, settings: input.settings ?? {}, details };
try {
  const c = await provider.fetch(target, ctx);
  console.log(
    JSON.stringify({
      ok: true,
      username: c.username,
      secret: c.secret,
      expiresAt: c.expiresAt.getTime(),
      identity: provider.identity(target, ctx),
    }),
  );
} catch (err) {
  console.log(JSON.stringify({ ok: false, error: (err as Error).message }));
}
process.exit(0);
