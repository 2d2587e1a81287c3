// What a docker `get` answer from docker-credential-acr must look like: a
// credential for the null GUID, or one error line on stdout that carries no secret.

import { expect } from "bun:test";
import type { RunResult } from "../../support/env.ts";
import { CLIENT_SECRET } from "./fakes.ts";
import { LOGIN } from "./setup.ts";

export const NULL_GUID = "00000000-0000-0000-0000-000000000000";

export function expectCredential(r: RunResult, host = LOGIN): string {
  expect(r.stderr).toBe("");
  expect(r.exitCode).toBe(0);
  const out = JSON.parse(r.stdout);
  expect(out.ServerURL).toBe(host);
  expect(out.Username).toBe(NULL_GUID);
  return out.Secret as string;
}

/** An error docker shows as-is: one line on stdout, exit 1, nothing on stderr, no secret. */
export function expectError(r: RunResult, ...fragments: RegExp[]): void {
  expect(r.exitCode).toBe(1);
  expect(r.stderr).toBe("");
  expect(r.stdout.trimEnd()).not.toContain("\n");
  expect(r.stdout).not.toContain(CLIENT_SECRET);
  expect(r.stdout).not.toContain("eyJ");
  for (const f of fragments) expect(r.stdout.trimEnd()).toMatch(f);
}
