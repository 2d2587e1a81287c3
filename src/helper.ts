// The Docker credential helper actions over our store, cache and resolver.
// Input is the stdin text, output is what to print and the exit status; the
// caller (cli.ts) owns the real streams.

import {
  ERR_NOT_FOUND,
  encodeCredentials,
  encodeList,
  parseStoreInput,
  readServerUrl,
  versionLine,
  type Action,
} from "./protocol/docker.ts";
import { parseServerUrl } from "./registry.ts";
import { resolveCredential } from "./resolve.ts";
import { summarize } from "./summary.ts";
import { storeIgnored } from "./paths.ts";
import type { Context, Provider } from "./provider.ts";
import type { CredentialStore } from "./store.ts";
import type { TokenCache } from "./cache.ts";
import { isExpired, savedExpiry } from "./saved-token.ts";
import { planSave } from "./store-plan.ts";

export interface HelperDeps {
  provider: Provider;
  /** The invoked name, e.g. `docker-credential-gcr`. */
  helperName: string;
  version: string;
  env: Context["env"];
  store: CredentialStore;
  cache: TokenCache | null;
  /** Built lazily: only `get` needs the configuration file and a deadline. */
  context(): Context;
  /** `list --details`: each registry's user, source and expiry, for people. */
  listDetails?: boolean;
}

export interface Outcome {
  stdout: string;
  exitCode: number;
}

const ok = (stdout = ""): Outcome => ({ stdout, exitCode: 0 });
const fail = (message: string): Outcome => ({ stdout: message + "\n", exitCode: 1 });

export async function runAction(action: Action, stdin: string, deps: HelperDeps): Promise<Outcome> {
  try {
    switch (action) {
      case "get":
        return await get(stdin, deps);
      case "store":
        return await store(stdin, deps);
      case "erase":
        return await erase(stdin, deps);
      case "list":
        return list(deps, deps.listDetails);
      case "version":
        return ok(versionLine(deps.helperName, deps.version));
    }
  } catch (err) {
    return fail(summarize(err));
  }
}

async function get(stdin: string, deps: HelperDeps): Promise<Outcome> {
  const input = readServerUrl(stdin);
  if (!input.ok) return fail(input.message);
  const parsed = parseServerUrl(input.serverURL);
  // A host we cannot even parse is a host we do not serve: not found, so the client pulls anonymously.
  if (!parsed.ok) return fail(ERR_NOT_FOUND);
  const ctx = deps.context();
  const result = await resolveCredential(parsed.host, { provider: deps.provider, store: deps.store, cache: deps.cache, ctx });
  if (!result.found) return fail(ERR_NOT_FOUND);
  ctx.log.debug(`${parsed.host.key}: answering from ${result.source}`);
  return ok(
    encodeCredentials({ ServerURL: input.serverURL, Username: result.credential.username, Secret: result.credential.secret }),
  );
}

async function store(stdin: string, deps: HelperDeps): Promise<Outcome> {
  const input = parseStoreInput(stdin);
  if (!input.ok) return fail(input.message);
  const { ServerURL, Username, Secret } = input.credentials;
  const parsed = parseServerUrl(ServerURL);
  if (!parsed.ok) return fail(`invalid server URL: ${parsed.reason}`);
  if (Secret.length === 0) return fail(ERR_EMPTY_SECRET);
  if (storeIgnored(deps.env, deps.provider.manifest)) return ok();
  const key = parsed.host.key;
  const plan = planSave(parsed.host, { username: Username, secret: Secret }, { ...deps, ctx: deps.context() });
  switch (plan.kind) {
    case "refuse":
      return fail(plan.message);
    case "cached-token":
      // The client stores what `get` just gave it: the cloud token stays ours to refresh.
      await deps.store.remove(key);
      return ok();
    case "save":
      await deps.store.put(key, {
        serverURL: ServerURL,
        username: Username,
        secret: Secret,
        ...(plan.expiresAt === undefined ? {} : { expiresAt: plan.expiresAt }),
      });
      return ok();
  }
}

const ERR_EMPTY_SECRET = "no credentials secret: an empty password is not saved";

async function erase(stdin: string, deps: HelperDeps): Promise<Outcome> {
  const input = readServerUrl(stdin);
  if (!input.ok) return fail(input.message);
  const parsed = parseServerUrl(input.serverURL);
  if (!parsed.ok) return fail(ERR_NOT_FOUND);
  const key = parsed.host.key;
  const cached = deps.cache?.removeHost(deps.provider.manifest.name, key) ?? 0;
  if (storeIgnored(deps.env, deps.provider.manifest)) return ok();
  const stored = await deps.store.remove(key);
  return stored || cached > 0 ? ok() : fail(ERR_NOT_FOUND);
}

/**
 * Local state only: stored logins and this provider's unexpired cached tokens. Never the network.
 * With `details`, each registry's user, where the credential comes from and when it expires (never the secret).
 */
function list(deps: HelperDeps, details = false): Outcome {
  const out = new Map<string, ListedCredential>();
  const now = Date.now();
  // A saved cloud token past its expiry is no longer served: not listed.
  const stored = deps.store.list().filter(([, cred]) => !isExpired(cred, deps.provider, now));
  const storedKeys = new Set(stored.map(([key]) => key));
  for (const entry of deps.cache?.entries() ?? []) {
    if (entry.provider === deps.provider.manifest.name && entry.expiresAt > now && !storedKeys.has(entry.host)) {
      out.set(entry.host, {
        Username: entry.username,
        Source: "cached token",
        ExpiresAt: new Date(entry.expiresAt).toISOString(),
      });
    }
  }
  for (const [, cred] of stored) {
    const expiry = savedExpiry(cred, deps.provider);
    out.set(cred.serverURL, {
      Username: cred.username,
      Source: expiry === null ? "saved login" : "saved token",
      ExpiresAt: expiry === null ? null : new Date(expiry).toISOString(),
    });
  }
  if (details) return ok(JSON.stringify(Object.fromEntries(out), null, 2) + "\n");
  return ok(encodeList(new Map([...out].map(([url, c]) => [url, c.Username]))));
}

interface ListedCredential {
  Username: string;
  Source: "saved login" | "saved token" | "cached token";
  ExpiresAt: string | null;
}
