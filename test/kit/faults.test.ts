// Faults, for every cloud, in one vocabulary (see kit.ts): on a cold cache
// each fault ends the `get` by its own deadline with one line naming it, exit
// 1 and nothing cached; with a cached token past its refresh point but still
// valid, that token is served whatever the fault; an expired cached token is
// never served. Deadlines are short (CCH_TIMEOUT of 1–2 s), so "slow" and
// "silent" cost no more than that; the only other limit is the harness's
// kill (exit 137), which would show a hang. No timing is asserted.

import { describe, expect, test } from "bun:test";
import { CLOUDS } from "./clouds.ts";
import { ageCache, cached, FAULT_DEADLINE_S, FAULTS, get, HARNESS_KILL_MS, secretOf, useClouds } from "./kit.ts";
import type { RunResult } from "../support/env.ts";

const MINUTE = 60_000;

function expectOneLineError(r: RunResult, title: string): void {
  expect({ exitCode: r.exitCode, stderr: r.stderr }).toEqual({ exitCode: 1, stderr: "" });
  expect(r.stdout).toStartWith(`${title}: `);
  expect(r.stdout.endsWith("\n") && !r.stdout.trimEnd().includes("\n")).toBe(true);
}

const clouds = useClouds(CLOUDS);

describe("faults, every cloud at once", () => {
  test.each(FAULTS)(
    "%s: on a cold cache one line naming it, exit 1, nothing cached; a valid cached token is served; an expired one never",
    (fault) =>
      clouds.each(async (c, env) => {
        const cold = env({ CCH_TIMEOUT: String(FAULT_DEADLINE_S) });
        const valid = env({ CCH_TIMEOUT: "1" });
        const expired = env({ CCH_TIMEOUT: "1" });
        const seeded = [
          secretOf(c, await get(c, valid, { CCH_TIMEOUT: "20" })),
          secretOf(c, await get(c, expired, { CCH_TIMEOUT: "20" })),
        ];
        // Past half of its life (time to refresh) with ten minutes left; and past its end.
        ageCache(valid, { issuedAgoMs: 50 * MINUTE, expiresInMs: 10 * MINUTE });
        ageCache(expired, { issuedAgoMs: 2 * 60 * MINUTE, expiresInMs: -1000 });
        c.fault(fault);
        // The three at once: a slow or silent cloud costs one deadline, not three.
        const [r, served, refused] = await Promise.all([get(c, cold), get(c, valid), get(c, expired)]);

        expectOneLineError(r, c.provider.manifest.title);
        expect(r.stdout).toMatch(c.says[fault]);
        // Nothing a later get could mistake for a token.
        expect(cached(cold)).toEqual([]);
        for (const token of c.issued()) expect(r.stdout).not.toContain(token);

        expect(secretOf(c, served)).toBe(seeded[0]!);

        expectOneLineError(refused, c.provider.manifest.title);
        expect(refused.stdout).not.toContain(seeded[1]!);
        // Each of the three reached the cloud: the refresh was tried, not skipped.
        expect(c.calls()).toBeGreaterThanOrEqual(2 + 3);
      }),
    HARNESS_KILL_MS + 20_000,
  );
});
