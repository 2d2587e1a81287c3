// Oracle's OKE credential provider for OCIR (oracle-devrel's
// oke-credential-provider-for-ocir; installed as `credential-provider-oke`
// or `oke-credential-provider`). Its settings come from `-config FILE` (Go
// flag syntax; YAML keys registryTokenPath, defaultUser, registryProtocol,
// ocirAuthMethod, tokenValidation) or else from the environment
// (REGISTRY_TOKEN_PATH, DEFAULT_USER, REGISTRY_PROTOCOL, OCIR_AUTH_METHOD,
// TOKEN_VALIDATION), with upstream's defaults (https, INSTANCE_PRINCIPAL).
//   ocirAuthMethod INSTANCE_PRINCIPAL → the instance principal; USER_PRINCIPAL →
//   the API key in the OCI configuration file (~/.oci/config, OCI_CONFIG_FILE).
// The token path and protocol are OCIR's own (/20180419/docker/token over
// https); other values are refused rather than ignored. The username is
// BEARER_TOKEN, as upstream answers whatever defaultUser says. Token
// validation (upstream's short first cache while IAM policies settle) is
// accepted: kubelet's cache here is always half the token's life.

import { readFileSync, statSync } from "node:fs";
import { commandOf, parseFlags } from "./flags.ts";
import type { UpstreamLaunch } from "./launch.ts";

const TOKEN_PATH = "/20180419/docker/token";
const KEYS: Readonly<Record<string, string>> = {
  registryTokenPath: "REGISTRY_TOKEN_PATH",
  defaultUser: "DEFAULT_USER",
  registryProtocol: "REGISTRY_PROTOCOL",
  ocirAuthMethod: "OCIR_AUTH_METHOD",
  tokenValidation: "TOKEN_VALIDATION",
};
const AUTH: Readonly<Record<string, string>> = { INSTANCE_PRINCIPAL: "instance_principal", USER_PRINCIPAL: "api_key" };

export function translate(args: readonly string[], env: UpstreamLaunch["env"]): UpstreamLaunch | string {
  if (args[0] === "--help" || args[0] === "-h") return { provider: "oci", args: ["--help"], env };
  const parsed = parseFlags(args, { values: { config: "config" } });
  if (typeof parsed === "string") return parsed;
  const command = commandOf(parsed.positional);
  if (command.startsWith("unexpected")) return command;
  const path = parsed.flags.get("config");
  const settings = path ? readYaml(path) : fromEnv(env);
  if (typeof settings === "string") return settings;
  const where = path ?? "the environment";
  const name = (key: string) => (path ? key : KEYS[key]!);

  const tokenPath = settings.registryTokenPath ?? "";
  if (tokenPath !== "" && tokenPath !== TOKEN_PATH) return `${where}: ${name("registryTokenPath")} must be ${TOKEN_PATH} (OCIR's token endpoint)`;
  const protocol = (settings.registryProtocol ?? "").toLowerCase() || "https";
  if (protocol !== "https") return `${where}: ${name("registryProtocol")} "${settings.registryProtocol}" is not supported: OCIR is reached over https`;
  const method = (settings.ocirAuthMethod ?? "").toUpperCase() || "INSTANCE_PRINCIPAL";
  const auth = AUTH[method];
  if (!auth) return `${where}: ${name("ocirAuthMethod")} must be INSTANCE_PRINCIPAL or USER_PRINCIPAL`;
  const validation = (settings.tokenValidation ?? "").toLowerCase();
  if (!["", "enabled", "disabled", "true", "false"].includes(validation)) return `${where}: ${name("tokenValidation")} must be enabled or disabled`;
  return { provider: "oci", args: [command], env: { ...env, CCH_OCI_AUTH: auth } };
}

type Settings = Partial<Record<keyof typeof KEYS, string>>;

function fromEnv(env: UpstreamLaunch["env"]): Settings {
  const out: Settings = {};
  for (const [key, variable] of Object.entries(KEYS)) if (env[variable]) out[key as keyof typeof KEYS] = env[variable];
  return out;
}

function readYaml(path: string): Settings | string {
  let data: unknown;
  try {
    if (statSync(path).size > 1 << 20) return `${path}: larger than 1 MiB`;
    data = Bun.YAML.parse(readFileSync(path, "utf8"));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code ? `cannot read the configuration file ${path}: ${code}` : `${path}: not valid YAML`;
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== "object" || Array.isArray(data)) return `${path}: expected a mapping of settings`;
  const out: Settings = {};
  for (const [key, value] of Object.entries(data)) {
    if (!Object.hasOwn(KEYS, key)) return `${path}: unknown key "${key}" (known: ${Object.keys(KEYS).join(", ")})`;
    if (typeof value !== "string" && typeof value !== "boolean") return `${path}: "${key}" must be a string`;
    out[key as keyof typeof KEYS] = String(value);
  }
  return out;
}
