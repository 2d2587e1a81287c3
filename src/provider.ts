// The provider contract: every cloud fits it. A provider module must be cheap
// to import (patterns and small helpers only); its SDK is loaded with
// `await import()` inside `fetch`, so a cache hit never pays for it.

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

export interface Provider<T = unknown> {
  /** "ecr-login", "gcr", "acr", "oci": the suffix of the binary name. */
  name: string;
  /** Human name of the cloud registry, for messages. */
  title: string;
  /**
   * Anchored match on a lower-cased host name without port; null means "not
   * this cloud" and must never lead to a network call.
   */
  match(hostname: string): T | null;
  /**
   * Who is asking, as a short stable string (profile, role, client id…), so
   * the cache never hands one identity's token to another. Must not load an SDK.
   */
  identity(target: Target<T>, ctx: Context): string;
  fetch(target: Target<T>, ctx: Context): Promise<Credential>;
  /**
   * Least remaining life for a cached token to be served, in ms. Default 60 s.
   */
  minRemainingMs?: number;
  /**
   * When true for a target, a failed fetch answers "not found" rather than an
   * error (ECR Public: anonymous pulls work, so the client should go on).
   */
  notFoundOnFailure?(target: Target<T>): boolean;
  /** Provider-specific overrides of the cache (upstream environment variables). */
  cacheOverrides?(env: Context["env"]): { dir?: string; disabled?: boolean };
  /** When true, `store`/`erase` succeed without touching the store (upstream compatibility). */
  ignoreStore?(env: Context["env"]): boolean;
  /** Keys this provider accepts in a registry's configuration entry, besides `alias`. */
  settingsKeys?: readonly string[];
  /** Hosts `configure docker` writes into credHelpers when none are named. */
  defaultRegistries?: readonly string[];
  /**
   * kubelet `matchImages` globs covering every host `match` accepts (a `*`
   * matches exactly one DNS label; REFERENCE.md §6), and nothing else.
   */
  kubeletMatchImages?: readonly string[];
  /**
   * Present when the provider can use a pod's service account token
   * (kubelet KEP-4412) instead of the node's identity; drives the
   * `tokenAttributes` that `configure kubelet --service-account-tokens` prints.
   */
  serviceAccountTokens?: {
    audience: string;
    /**
     * Environment kubelet must give the plugin in this mode, printed by
     * `configure kubelet` (cluster-specific values as <placeholders>).
     */
    env?: Readonly<Record<string, string>>;
    requiredAnnotationKeys?: readonly string[];
    optionalAnnotationKeys?: readonly string[];
  };
  /**
   * For `doctor`: which identity sources exist here and which one a fetch
   * would use. Local checks only (files, environment, at most a quick probe
   * under ctx.deadline); never fetches a token, never returns a secret.
   */
  describeIdentity?(target: Target<T>, ctx: Context): Promise<IdentityReport>;
  /** Provider-specific lines for `--help`: its settings keys and environment variables. */
  helpText?: string;
  /**
   * In service-account mode, whether this request really uses the pod's
   * identity (default: yes). When it falls back to the node's (GKE pods that
   * did not opt in), the cache entry is the node's and is shared.
   */
  usesServiceAccount?(target: Target<T>, ctx: Context): boolean;
  /**
   * The user name this cloud's registry tokens go with (`AWS`, `oauth2accesstoken`…):
   * a `store` under it saves a token that expires, not a permanent login.
   */
  tokenUser?: string;
  /** The documented longest life of such a token, for a token that does not carry its own expiry. */
  tokenMaxLifeMs?: number;
  /** Extra subcommands of this helper (e.g. gcr's `configure-docker`), loaded lazily. */
  subcommands?: Readonly<Record<string, () => Promise<Subcommand>>>;
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

export function parseBoolean(value: string | undefined): boolean {
  if (value === undefined) return false;
  return ["1", "true", "yes", "on"].includes(value.trim().toLowerCase());
}
