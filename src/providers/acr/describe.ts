// `doctor`'s view of the Azure identities on this machine: every source of the
// chain, whether it is there, and which one a fetch would use (the first
// source of the same plan `fetch` follows that is present). Local checks only:
// environment, files, PATH, and at most one quick probe of an IMDS endpoint.
// Never a secret: client secrets, certificate passwords, IDENTITY_HEADER and
// token file contents never reach a detail.

import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join } from "node:path";
import type { Context, IdentityReport, IdentitySource as ReportedSource } from "../../provider.ts";
import { allowedKinds, type AcrPlan, type SourceKind } from "./plan.ts";
import { managedIdentityEndpoint, probeImds } from "./managed-identity.ts";

export const SOURCE_NAMES: Readonly<Record<SourceKind, string>> = {
  "client-secret": "environment service principal (AZURE_CLIENT_SECRET)",
  "client-certificate": "environment service principal (AZURE_CLIENT_CERTIFICATE_PATH)",
  "workload-identity": "workload identity (AZURE_FEDERATED_TOKEN_FILE)",
  "managed-identity": "managed identity",
  "azure-cli": "Azure CLI (az login)",
  "service-account": "pod service account token (kubelet)",
};

const CONFIGURED: ReadonlySet<SourceKind> = new Set(["client-secret", "client-certificate", "workload-identity"]);

export interface DescribeDeps {
  /** Whether an IMDS endpoint answers; injectable so tests never reach 169.254.169.254. */
  probe(base: string, ctx: Context): Promise<boolean>;
}

interface Seen {
  kind: SourceKind;
  found: boolean;
  detail: string;
}

export async function describeAcrIdentity(
  acrPlan: AcrPlan,
  ctx: Context,
  deps: DescribeDeps = { probe: probeImds },
): Promise<IdentityReport> {
  const { settings, identity: plan } = acrPlan;
  const authority = `authority ${plan.authorityHost}`;

  if (ctx.serviceAccount) {
    const s = plan.sources[0]!;
    const name = SOURCE_NAMES["service-account"];
    return { sources: [{ name, found: true, detail: `client ${s.clientId} in tenant ${s.tenantId}, ${authority}` }], used: name };
  }

  const env = ctx.env;
  const tenant = settings.tenantId ?? env.AZURE_TENANT_ID ?? null;
  const client = env.AZURE_CLIENT_ID || null;
  const appClient = settings.clientId ?? client;
  const who = (c: string | null) =>
    `client ${c ?? "(AZURE_CLIENT_ID not set)"} in tenant ${tenant ?? "(AZURE_TENANT_ID not set)"}, ${authority}`;
  const inPlan = new Set(plan.sources.map((s) => s.kind));
  const seen: Seen[] = [];

  // 1. The environment's service principal: a secret, or else a certificate.
  const certificate = env.AZURE_CLIENT_CERTIFICATE_PATH;
  if (certificate && !env.AZURE_CLIENT_SECRET) {
    const unreadable = isReadableFile(certificate) ? "" : " (cannot read it)";
    seen.push({
      kind: "client-certificate",
      found: !!(tenant && client),
      detail: `${who(client)}, certificate ${certificate}${unreadable}`,
    });
  } else {
    seen.push({
      kind: "client-secret",
      found: !!(tenant && client && env.AZURE_CLIENT_SECRET),
      detail: `${who(client)}, AZURE_CLIENT_SECRET ${env.AZURE_CLIENT_SECRET ? "set" : "not set"}`,
    });
  }

  // 2. Workload identity: a projected token file, a tenant and a client.
  const tokenFile = env.AZURE_FEDERATED_TOKEN_FILE;
  seen.push(
    tokenFile
      ? {
          kind: "workload-identity",
          found: !!(tenant && appClient),
          detail: `${who(appClient)}, token file ${tokenFile}${isReadableFile(tokenFile) ? "" : " (cannot read it)"}`,
        }
      : { kind: "workload-identity", found: false, detail: "AZURE_FEDERATED_TOKEN_FILE not set" },
  );

  // 3. Managed identity: an endpoint named by the environment is taken as
  // present; IMDS is probed, but only when a fetch would really try it.
  const mi = managedIdentityEndpoint(env);
  const miWho = appClient ? `user-assigned ${appClient}` : "system-assigned";
  const where = `${miWho}, ${mi.kind} endpoint ${mi.endpoint}`;
  if (mi.kind !== "IMDS") seen.push({ kind: "managed-identity", found: true, detail: where });
  else if (!inPlan.has("managed-identity")) seen.push({ kind: "managed-identity", found: false, detail: `${where}, not probed` });
  else {
    const answers = await deps.probe(mi.endpoint, ctx);
    seen.push({ kind: "managed-identity", found: answers, detail: `${where}${answers ? " answers" : " does not answer"}` });
  }

  // 4. The Azure CLI on PATH (whether it is logged in would take running az).
  const az = findOnPath("az", env.PATH);
  const cliTenant = settings.tenantId ? `, tenant ${settings.tenantId}` : "";
  seen.push({ kind: "azure-cli", found: az !== null, detail: az ? `${az}${cliTenant}` : "az not on PATH" });

  const allowed = allowedKinds(env.AZURE_TOKEN_CREDENTIALS);
  const first = plan.sources[0];
  const whyNot = (kind: SourceKind): string => {
    if (allowed !== null && !allowed.includes(kind)) return `AZURE_TOKEN_CREDENTIALS=${env.AZURE_TOKEN_CREDENTIALS}`;
    if (first && CONFIGURED.has(first.kind)) return `${SOURCE_NAMES[first.kind]} comes first`;
    if (kind === "client-secret" || kind === "client-certificate")
      return `this registry is configured for client ${settings.clientId}`;
    return "not in the chain";
  };
  const sources: ReportedSource[] = seen.map((s) => {
    const unused = !inPlan.has(s.kind) && (s.found || s.detail.endsWith("not probed"));
    return { name: SOURCE_NAMES[s.kind], found: s.found, detail: unused ? `${s.detail}; not used: ${whyNot(s.kind)}` : s.detail };
  });
  const used = plan.sources.find((p) => seen.some((s) => s.kind === p.kind && s.found));
  return { sources, used: used ? SOURCE_NAMES[used.kind] : null };
}

function isReadableFile(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function findOnPath(command: string, path: string | undefined): string | null {
  for (const dir of (path ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not in this directory
    }
  }
  return null;
}
