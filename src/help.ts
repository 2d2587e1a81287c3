// `--help` text. Kept beside the code it describes; README repeats it.

import type { Provider } from "./provider.ts";
import { PROVIDER_NAMES } from "./providers/index.ts";

export function helpText(helperName: string, provider: Provider): string {
  const short = helperName.replace(/^docker-credential-/, "");
  const { title, optionalRegistries = {} } = provider.manifest;
  const flags = Object.keys(optionalRegistries)
    .map((f) => ` [--${f}]`)
    .join("");
  return `${helperName}: short-lived ${title} credentials for docker, podman, skopeo and kubelet.

Docker credential helper protocol (the server URL, or JSON for store, on stdin):
  ${helperName} get        print {"ServerURL","Username","Secret"} for the server URL on stdin
  ${helperName} store      save the credential given as JSON on stdin (docker login); a cloud token expires
  ${helperName} erase      forget the saved credential and cached token for a server URL (docker logout)
  ${helperName} list       saved and cached registries, from local state only
  ${helperName} list --details   with each one's user, source (saved login, saved token, cached token) and expiry
  ${helperName} version    print the version (and the build's commit and Bun version)

Kubelet image credential provider (a CredentialProviderRequest on stdin, v1/v1beta1/v1alpha1):
  ${helperName} get-credentials      also: kubelet, no arguments, or get with the request on stdin
                                     ({"image": "…"} alone is read as a v1 request)

Setting up and checking:
  ${helperName} configure docker [--registries a,b]${flags} [--containers] [--dry-run]
                                     add credHelpers entries (alias: configure-docker)
  ${helperName} configure kubelet [--providers ${PROVIDER_NAMES.join(",")}] [--kubernetes-version X.Y]
                                 [--service-account-tokens] [--format yaml|json] [--rbac]
                                     print a kubelet CredentialProviderConfig for that kubelet version
                                     (configure kubelet --help: audiences, Google and Oracle flags)
  ${helperName} install --bin-dir DIR [--upstream-names] [--kubelet-config FILE] | --csi
                                     install the four helpers (hardlinks; also under the upstream
                                     plugins' names) and a kubelet config (install --help)
  ${helperName} doctor [registry] [--json]
                                     which identity is used, can a token be had, does the registry accept it
  ${helperName} --help | --version

Options:
  --verbose                debug log on stderr (never shows a secret)

Environment:
  CCH_CONFIG               configuration file (default: <config dir>/config.json)
  CCH_CONFIG_DIR           directory of the configuration file and saved credentials
  CCH_CACHE_DIR            token cache directory
  CCH_DISABLE_CACHE=true   do not cache tokens
  CCH_TIMEOUT=<seconds>    deadline for getting a token (default 10, at most 600)
  CCH_DEBUG=true           debug log on stderr; CCH_LOG=<file> appends it to a file (0600)

Endpoint overrides (settings such as endpoint, tokenEndpoint, impersonationEndpoint, and endpoint
variables) receive your tokens and signed requests: point them only at hosts you trust. A file that
another user owns or can write (configuration, saved logins, cache, log) is not used.

${title}:
${provider.manifest.helpText.replace(/\s+$/, "")}

Wire it into ~/.docker/config.json (or run: ${helperName} configure docker --registries <host>):
  { "credHelpers": { "<registry host>": "${short}" } }
`;
}
