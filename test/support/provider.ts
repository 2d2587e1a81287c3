// Calling a provider as the resolver does: plan first, then the step under test.

import type { Context, Credential, IdentityReport, Provider, Target } from "../../src/provider.ts";

/** doctor's report for a target, from the provider's own plan. */
export function describeVia<T>(provider: Provider<T, any>, target: Target<T>, ctx: Context): Promise<IdentityReport> {
  return provider.describe(target, provider.plan(target, ctx), ctx);
}

/** A token for a target, following the provider's own plan (no resolver, no cache). */
export function fetchVia<T>(provider: Provider<T, any>, target: Target<T>, ctx: Context): Promise<Credential> {
  return provider.fetch(target, provider.plan(target, ctx), ctx);
}
