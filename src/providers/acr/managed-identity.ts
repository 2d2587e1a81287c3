// Where a managed-identity token would come from, read from the environment
// in the order MSAL checks it (ManagedIdentityApplication's source detection),
// and a quick availability probe of the IMDS-style endpoint. No SDK here:
// doctor and the chain's fall-through use it before anything is loaded.

import type { Context } from "../../provider.ts";

type Env = Context["env"];

export const IMDS_HOST = "http://169.254.169.254";
const IMDS_TOKEN_PATH = "/metadata/identity/oauth2/token";
/** The SDK's own IMDS probe waits one second; so do we. */
const PROBE_TIMEOUT_MS = 1000;

export interface ManagedIdentityEndpoint {
  /** "App Service", "Service Fabric", "Azure Arc", "Cloud Shell", "Azure Machine Learning", "IMDS". */
  kind: string;
  /** The endpoint's origin (never a header or secret). */
  endpoint: string;
  /** True when an environment variable named the endpoint (IMDS by default is assumed, not found). */
  fromEnv: boolean;
}

export function managedIdentityEndpoint(env: Env): ManagedIdentityEndpoint {
  const origin = (url: string | undefined) => {
    try {
      return url ? new URL(url).origin : "";
    } catch {
      return "(not a URL)";
    }
  };
  if (env.IDENTITY_ENDPOINT && env.IDENTITY_HEADER && env.IDENTITY_SERVER_THUMBPRINT) {
    return { kind: "Service Fabric", endpoint: origin(env.IDENTITY_ENDPOINT), fromEnv: true };
  }
  if (env.IDENTITY_ENDPOINT && env.IDENTITY_HEADER) {
    return { kind: "App Service", endpoint: origin(env.IDENTITY_ENDPOINT), fromEnv: true };
  }
  if (env.MSI_ENDPOINT && env.MSI_SECRET) {
    return { kind: "Azure Machine Learning", endpoint: origin(env.MSI_ENDPOINT), fromEnv: true };
  }
  if (env.MSI_ENDPOINT) return { kind: "Cloud Shell", endpoint: origin(env.MSI_ENDPOINT), fromEnv: true };
  if (env.IDENTITY_ENDPOINT && env.IMDS_ENDPOINT) {
    return { kind: "Azure Arc", endpoint: origin(env.IDENTITY_ENDPOINT), fromEnv: true };
  }
  const pod = env.AZURE_POD_IDENTITY_AUTHORITY_HOST?.trim();
  if (pod) return { kind: "IMDS", endpoint: origin(pod), fromEnv: true };
  return { kind: "IMDS", endpoint: IMDS_HOST, fromEnv: false };
}

/**
 * Whether an IMDS-style endpoint answers at all: a GET without the Metadata
 * header, which a real endpoint rejects at once. Any HTTP answer means it is
 * there; a refused connection or silence within a second means it is not.
 * The SDK probes only the default address and trusts
 * AZURE_POD_IDENTITY_AUTHORITY_HOST blindly, then retries a dead one for
 * about six seconds; this probe covers that case too.
 */
export async function probeImds(base: string, ctx: Pick<Context, "signal" | "deadline" | "now">): Promise<boolean> {
  const remaining = ctx.deadline - ctx.now().getTime();
  if (remaining <= 0) return false;
  const timeout = AbortSignal.timeout(Math.min(PROBE_TIMEOUT_MS, remaining));
  try {
    const res = await fetch(new URL(IMDS_TOKEN_PATH, base), {
      method: "GET",
      headers: { accept: "application/json" },
      redirect: "manual",
      signal: AbortSignal.any([ctx.signal, timeout]),
    });
    await res.body?.cancel().catch(() => {});
    return true;
  } catch {
    return false;
  }
}
