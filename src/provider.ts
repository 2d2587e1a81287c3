// The provider contract: every cloud fits it (docs/provider-contract.md).

import type { RegistryHost } from "./registry.ts";
import type { RegistrySettings, Config } from "./config.ts";
import type { Logger } from "./log.ts";

export interface Credential {
  username: string;
  secret: string;
  expiresAt: Date;
}

/** What `match` recognised, plus what the resolver adds around it. */
export interface Target<T = unknown> {
  /** The host the client asked for (the one the credential will be sent to). */
  host: RegistryHost;
  /** The cloud registry host name it stands for: `host.hostname`, or the alias target. */
  registry: string;
  /** Per-registry settings from the configuration file (empty when none). */
  settings: RegistrySettings;
  /** Whatever the provider's pattern extracted (account, region, realm…). */
  details: T;
}

/** The pod's identity in kubelet service-account-token mode (KEP-4412). */
export interface ServiceAccountIdentity {
  token: string;
  annotations: Readonly<Record<string, string>>;
}

export interface Context {
  env: Readonly<Record<string, string | undefined>>;
  now(): Date;
  log: Logger;
  /** Aborts when the whole operation's deadline passes. Pass it to every network call. */
  signal: AbortSignal;
  /** Absolute deadline, epoch milliseconds. */
  deadline: number;
  config: Config;
  serviceAccount?: ServiceAccountIdentity;
  /** Ignore remembered failures and ask again (doctor: a diagnosis looks for itself). */
  askAgain?: boolean;
}

export interface ServiceAccountTokens {
  /** The audience kubelet requests the pod's token for. */
  audience: string;
  /**
   * Environment kubelet must give the plugin in this mode, printed by
   * `configure kubelet` (cluster-specific values as <placeholders>).
   */
  env?: Readonly<Record<string, string>>;
  requiredAnnotationKeys?: readonly string[];
  optionalAnnotationKeys?: readonly string[];
}

/** What a provider is, as data: everything but the four functions. */
export interface Manifest {
  /** "ecr-login", "gcr", "acr", "oci": the suffix of the binary name. */
  name: string;
  /** Human name of the cloud registry; the resolver prefixes every provider error with it, once. */
  title: string;
  /** Keys a registry's configuration entry may hold besides `alias`. */
  settingsKeys: readonly string[];
  /** Provider-specific lines for `--help`: its settings keys and environment variables. */
  helpText: string;
  /**
   * kubelet `matchImages` globs covering every host `match` accepts (a `*`
   * matches exactly one DNS label), and nothing else.
   */
  kubeletMatchImages: readonly string[];
  /** Hosts `configure docker` writes into credHelpers when none are named. */
  defaultRegistries: readonly string[];
  /** How this provider uses a pod's service account token (kubelet service-account mode). */
  serviceAccountTokens: ServiceAccountTokens;
  /** Lists `configure docker` adds behind a flag (flag name → hosts), e.g. gcr's include-artifact-registry. */
  optionalRegistries?: Readonly<Record<string, readonly string[]>>;
  /** Least remaining life for a cached token to be served, in ms (default 60 s). */
  minRemainingMs?: number;
  /** The user name the cloud's registry tokens are presented under. */
  tokenUser: string;
  /** The longest life the cloud documents for such a token, in ms. */
  tokenMaxLifeMs: number;
  /** Upstream environment variables this helper honours besides CCH_* (names, parsed by the core). */
  upstreamEnv?: { cacheDir?: string; disableCache?: string; ignoreStore?: string };
}

/**
 * Who is asking, and from which source: decided once per request, cheaply
 * (environment and small files; no SDK), before the cache is read. The cache
 * is keyed by it, fetch follows it and doctor reports it: one decision, made
 * in one place. See docs/provider-contract.md.
 */
export interface Plan {
  /** Short, stable and secret-free; names the principal. Part of the token cache key. */
  key: string;
  /** For people: the identity source a fetch uses. Never a secret. */
  source: string;
  /** True when the pod's service account identity is used: the resolver adds who the pod is to the key. */
  pod: boolean;
  /** A failure answers "not found", so the client pulls anonymously (ECR Public). */
  anonymousOnFailure?: boolean;
}

/**
 * A cloud: data plus four functions. A provider module must be cheap to
 * import (patterns and small helpers only); `fetch` and `describe` load their
 * code with `await import()`, so a cache hit never pays for an SDK.
 */
export interface Provider<T = unknown, P extends Plan = Plan> {
  manifest: Manifest;
  /**
   * Anchored match on a lower-cased host name without port; null means "not
   * this cloud" and must never lead to a network call.
   */
  match(hostname: string): T | null;
  /** The identity plan; throws ProviderError for settings or environments that cannot work. */
  plan(target: Target<T>, ctx: Context): P;
  /** A token, obtained exactly as the plan says. */
  fetch(target: Target<T>, plan: P, ctx: Context): Promise<Credential>;
  /**
   * For `doctor`: the plan's source and which other sources exist here.
   * Local checks only (at most a quick probe under ctx.deadline); never
   * fetches a token, never returns a secret.
   */
  describe(target: Target<T>, plan: P, ctx: Context): Promise<IdentityReport>;
}

export interface IdentitySource {
  /** e.g. "environment variables", "profile prod in ~/.aws/config", "metadata server". */
  name: string;
  found: boolean;
  /** What was seen (a path, an account, a client id): never a secret. */
  detail?: string;
}

export interface IdentityReport {
  sources: IdentitySource[];
  /** The name of the source a fetch would use, or null when none was found. */
  used: string | null;
}

/** A subcommand beyond the Docker protocol; returns the exit status. */
export type Subcommand = (args: string[], io: CommandIo) => Promise<number>;

export interface CommandIo {
  provider: Provider;
  helperName: string;
  env: Readonly<Record<string, string | undefined>>;
  stdout(text: string): void;
  stderr(text: string): void;
}

/** An error whose message is safe and useful to show a person as-is. */
export class ProviderError extends Error {
  override name = "ProviderError";
  /**
   * How long the same failure will surely recur (no metadata server off the
   * cloud): the resolver remembers it for that long, per identity, so that
   * `docker build` calling every helper does not wait on the same probe again.
   */
  readonly recurForMs: number;

  constructor(message: string, options: { recurForMs?: number } = {}) {
    super(message);
    this.recurForMs = options.recurForMs ?? 0;
  }
}
