// Builds oci-common's AuthenticationDetailsProvider for the chosen plan. Loaded
// only inside fetch (it imports the SDK). Every SDK failure becomes one line a
// person can act on; SDK messages are cut short and never carry key material.

import type * as OciCommon from "oci-common";
import { readFileSync } from "node:fs";
import { ProviderError, type Context } from "../../provider.ts";
import { expandHome } from "./config-file.ts";
import { withDeadline } from "./deadline.ts";
import type { NodePlan } from "./plan.ts";
import { reason } from "./errors.ts";
import { okeSessionAuth } from "./oke.ts";
import { metadataWaitCapMs } from "./platform.ts";
import { checkEndpoint, federationOverride, metadataBaseUrl } from "./settings.ts";
import { resourcePrincipalV11, RPT_PATH_DEFAULT } from "./resource-principal-v1.ts";
import { metadataCertificate, readMetadata } from "./metadata-certificates.ts";

/** No identity found in automatic mode: not looked for again, for this identity, for this long. */
const NO_IDENTITY_RECUR_MS = 60_000;

type Common = typeof OciCommon;
export type AuthProvider = OciCommon.AuthenticationDetailsProvider;

export async function buildAuth(common: Common, plan: NodePlan, ctx: Context): Promise<AuthProvider> {
  switch (plan.kind) {
    case "api_key":
      return apiKey(common, plan, ctx);
    case "session_token":
      return sessionToken(plan, ctx);
    case "instance_principal":
      return instancePrincipal(common, plan, ctx);
    case "resource_principal":
      if (plan.version === "1.1") return resourcePrincipal11(common, ctx);
      return sdkCall("resource principal", () => common.ResourcePrincipalAuthenticationDetailsProvider.builder());
    case "oke_workload_identity":
      // The token mounted in this pod, exchanged as oci-common would (see oke.ts for why not through it).
      return okeSessionAuth(
        { saToken: () => readTokenFile(plan.tokenPath), whose: `the service account token ${plan.tokenPath}` },
        ctx,
      );
  }
}

function readTokenFile(path: string): string {
  let token: string;
  try {
    token = readFileSync(path, "utf8").trim();
  } catch {
    throw new ProviderError(
      `OKE workload identity: cannot read the service account token ${path} (set CCH_OCI_SERVICE_ACCOUNT_TOKEN_FILE)`,
    );
  }
  if (token === "") throw new ProviderError(`OKE workload identity: the service account token ${path} is empty`);
  return token;
}

/**
 * The profile we already parsed, handed to the SDK as-is: ConfigFileAuthenticationDetailsProvider
 * would insist on a region (irrelevant to a registry token) and guess OC1 for one it does not know.
 */
function apiKey(common: Common, plan: ConfigPlan, ctx: Context): AuthProvider {
  const v = plan.values;
  return new common.SimpleAuthenticationDetailsProvider(
    v.get("tenancy")!,
    v.get("user")!,
    v.get("fingerprint")!,
    readProfileFile(plan, "key_file", ctx),
    v.get("pass_phrase") ?? null,
  );
}

/**
 * A session-token profile signs with key id `ST$<token>` (as the SDK's
 * SessionAuthDetailProvider does) and the profile's session key. Built here so
 * a trailing newline in the token file or a missing region cannot break it.
 */
function sessionToken(plan: ConfigPlan, ctx: Context): AuthProvider {
  const token = readProfileFile(plan, "security_token_file", ctx).trim();
  if (token === "") throw new ProviderError(`the security_token_file of profile [${plan.profile}] is empty`);
  const pem = readProfileFile(plan, "key_file", ctx);
  const passphrase = plan.values.get("pass_phrase") ?? null;
  return { getKeyId: async () => `ST$${token}`, getPrivateKey: () => pem, getPassphrase: () => passphrase };
}

type ConfigPlan = Extract<NodePlan, { kind: "api_key" | "session_token" }>;

function readProfileFile(plan: ConfigPlan, key: string, ctx: Context): string {
  const path = expandHome(plan.values.get(key)!, ctx.env.HOME);
  try {
    return readFileSync(path, "utf8");
  } catch {
    throw new ProviderError(`cannot read ${key} ${path} of profile [${plan.profile}] in ${plan.configPath}`);
  }
}

async function instancePrincipal(common: Common, plan: Extract<NodePlan, { kind: "instance_principal" }>, ctx: Context) {
  const tried = plan.tried;
  // Off OCI the metadata service stays silent: remember that rather than probe on every get.
  const noIdentity = (why: string) =>
    new ProviderError(
      `no OCI identity found; tried ${[...tried, `instance principal (${why})`].join(", ")}. ` +
        `Configure one (e.g. an API key in ~/.oci/config) or set "auth" for this registry`,
      { recurForMs: NO_IDENTITY_RECUR_MS },
    );
  const override = federationOverride(ctx.env);
  let federation = override;
  // The region names the federation endpoint. In automatic mode it is also the
  // probe (even when the endpoint is overridden): off OCI it may wait only
  // briefly (platform.ts); once it has answered, the whole deadline applies.
  if (federation === undefined || plan.automatic) {
    const region = await metadataRegion(plan, metadataWaitCapMs(plan.automatic), ctx).catch((err: unknown) => {
      throw plan.automatic ? noIdentity(reason(err)) : new ProviderError(`instance principal: ${reason(err)}`);
    });
    federation ??= federationEndpointFor(common, region);
  }
  const builder = new common.InstancePrincipalsAuthenticationDetailsProviderBuilder();
  builder.metadataBaseUrl = plan.metadataUrl;
  builder.federationEndpoint = federation;
  try {
    // Read here with a cap; the builder's own reads hold a body whole.
    type Supplier = typeof builder.leafCertificateSupplier;
    const leaf = await metadataCertificate(plan.metadataUrl, "identity/cert.pem", "identity/key.pem", ctx);
    const intermediate = await metadataCertificate(plan.metadataUrl, "identity/intermediate.pem", null, ctx);
    builder.leafCertificateSupplier = leaf as unknown as Supplier;
    builder.intermediateCertificateSuppliers = [intermediate as unknown as Supplier];
    // Whatever build() still fetches has no timeout of its own.
    return await withDeadline(builder.build(), ctx, `the instance metadata service (${plan.metadataUrl})`);
  } catch (err) {
    if (plan.automatic) throw noIdentity(reason(err));
    if (err instanceof ProviderError) throw err;
    throw new ProviderError(
      `instance principal: cannot read the instance identity from ${plan.metadataUrl}: ${reason(err)}`,
    );
  }
}

/**
 * Resource principal 1.1: the instance principal of this machine signs for the
 * resource's token (resource-principal-v1.ts). The endpoints receive signed
 * requests: https, or http to a loopback address.
 */
async function resourcePrincipal11(common: Common, ctx: Context): Promise<AuthProvider> {
  const env = ctx.env;
  const ip: Extract<NodePlan, { kind: "instance_principal" }> = {
    kind: "instance_principal",
    metadataUrl: metadataBaseUrl(env),
    automatic: false,
    tried: [],
  };
  const rptBase = checkEndpoint(env.OCI_RESOURCE_PRINCIPAL_RPT_ENDPOINT ?? "", "OCI_RESOURCE_PRINCIPAL_RPT_ENDPOINT");
  let id = env.OCI_RESOURCE_PRINCIPAL_RPT_ID;
  if (!id) id = await metadataText(ip, "instance/id", Infinity, ctx, /^ocid1\.[a-z0-9._-]{1,255}$/, "instance id");
  const path = (env.OCI_RESOURCE_PRINCIPAL_RPT_PATH || RPT_PATH_DEFAULT).replace("{id}", encodeURIComponent(id));
  const rpstBase = env.OCI_RESOURCE_PRINCIPAL_RPST_ENDPOINT
    ? new URL(checkEndpoint(env.OCI_RESOURCE_PRINCIPAL_RPST_ENDPOINT, "OCI_RESOURCE_PRINCIPAL_RPST_ENDPOINT")).origin
    : federationEndpointFor(common, await metadataRegion(ip, Infinity, ctx));
  const instance = await instancePrincipal(common, ip, ctx);
  return resourcePrincipalV11({ common, instance, rptUrl: rptBase + (path.startsWith("/") ? path : `/${path}`), rpstBase }, ctx);
}

/** `instance/region` of the metadata service: a region key (iad) or id (us-ashburn-1). */
function metadataRegion(plan: Extract<NodePlan, { kind: "instance_principal" }>, capMs: number, ctx: Context): Promise<string> {
  return metadataText(plan, "instance/region", capMs, ctx, /^[a-z0-9-]{2,64}$/, "region name");
}

/** One value of the instance metadata service, lower-cased, that must match `shape`. */
async function metadataText(
  plan: Extract<NodePlan, { kind: "instance_principal" }>,
  path: string,
  capMs: number,
  ctx: Context,
  shape: RegExp,
  what = path,
): Promise<string> {
  const url = plan.metadataUrl + path;
  const text = (await readMetadata(url, ctx, capMs)).trim().toLowerCase();
  if (!shape.test(text)) throw new ProviderError(`the instance metadata service returned no ${what} at ${url}`);
  return text;
}

/**
 * https://auth.<region>.<realm domain>. The SDK would silently assume OC1 for a
 * region it does not know and send the instance's certificate to the wrong
 * realm; we stop and say so instead.
 */
function federationEndpointFor(common: Common, regionText: string): string {
  const id = common.Region.getRegionIdFromShortCode(regionText);
  const region = common.Region.fromRegionId(id);
  if (!region) {
    throw new ProviderError(
      `unknown realm: this instance is in region "${id}", which oci-common does not know; ` +
        `describe it in OCI_REGION_METADATA or ~/.oci/regions-config.json, or set CCH_OCI_FEDERATION_ENDPOINT`,
    );
  }
  return `https://auth.${region.regionId}.${region.realm.secondLevelDomain}`;
}

function sdkCall<T>(what: string, build: () => T): T {
  try {
    return build();
  } catch (err) {
    throw new ProviderError(`${what}: ${reason(err)}`);
  }
}
