// The secret scan, for every cloud: a run of successes, every fault and the
// pod's echoed token, with the debug log on (to CCH_LOG and to stderr); then
// no secret of the run (tokens issued, the pod's tokens, the node's client
// secret or private key) may appear in stderr, in an error on stdout or in the
// debug log. scripts/scan-logs.ts does the same over the whole suite, for the
// secrets that crossed stdin/stdout; this one also knows what the fakes hold.

import { expect, test } from "bun:test";
import type { RunResult } from "../support/env.ts";
import { CLOUDS } from "./clouds.ts";
import { ageCache, askAsKubelet, debugLog, FAULTS, get, kubeletRequest, useClouds } from "./kit.ts";

const clouds = useClouds(CLOUDS);

test(
  "every cloud at once: no secret of the run in stderr, in an error on stdout, or in the debug log",
  () =>
    clouds.each(async (c, env) => {
      const t = env({ CCH_DEBUG: "1" });
      const runs: RunResult[] = [];
      const run = async (p: Promise<RunResult>) => {
        const r = await p;
        runs.push(r);
        return r;
      };
      // The debug log is on stderr too: only the exit code says the first get succeeded.
      expect((await run(get(c, t))).exitCode).toBe(0);
      for (const fault of FAULTS) {
        // A refresh that fails (the cached token is served), then a cold cache that fails.
        ageCache(t, { issuedAgoMs: 50 * 60_000, expiresInMs: 10 * 60_000 });
        c.fault(fault);
        await Promise.all([run(get(c, t, { CCH_TIMEOUT: "1" })), run(get(c, t, { CCH_TIMEOUT: "1", CCH_DISABLE_CACHE: "1" }))]);
      }
      c.fault(null);
      const sa = c.pod.serviceAccount("team-a", "puller", "scan");
      await run(askAsKubelet(c, t, kubeletRequest(`${c.host}/team/app`, sa)));
      const echoed = c.pod.serviceAccount("team-b", "puller", "scan");
      c.pod.echo(echoed.token);
      await run(askAsKubelet(c, t, kubeletRequest(`${c.host}/team/app`, echoed)));

      const secrets = [...new Set([...c.secrets(), sa.token, echoed.token])].filter((s) => s.length >= 8);
      expect(secrets.length).toBeGreaterThan(c.issued().length);
      const places: Array<[string, string]> = [["debug log", debugLog(t)]];
      runs.forEach((r, i) => {
        places.push([`run ${i} stderr`, r.stderr]);
        if (r.exitCode !== 0) places.push([`run ${i} stdout (an error)`, r.stdout]);
      });
      expect(debugLog(t)).not.toBe("");
      const leaks = places.flatMap(([where, text]) =>
        secrets.filter((s) => text.includes(s)).map((s) => `${where}: ${s.slice(0, 6)}… (${s.length} chars)`),
      );
      expect(leaks).toEqual([]);
    }),
  120_000,
);
