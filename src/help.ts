// `--help` text. Kept beside the code it describes; README repeats it.

import type { Provider } from "./provider.ts";

export function helpText(helperName: string, provider: Provider): string {
  return `${helperName}: short-lived ${provider.title} credentials for docker, podman, skopeo and kubelet.

Usage (Docker credential helper protocol; the server URL or JSON comes on stdin):
  ${helperName} get        print {"ServerURL","Username","Secret"} for the server URL on stdin
  ${helperName} store      save the credential given as JSON on stdin (docker login)
  ${helperName} erase      forget the saved credential and cached token for a server URL (docker logout)
  ${helperName} list       saved and cached registries, from local state only
  ${helperName} version    print the version
  ${helperName} --help | --version

Options:
  --verbose                debug log on stderr (never shows a secret)

Environment:
  CCH_CONFIG               configuration file (default: <config dir>/config.json)
  CCH_CONFIG_DIR           directory of the configuration file and saved credentials
  CCH_CACHE_DIR            token cache directory
  CCH_DISABLE_CACHE=true   do not cache tokens
  CCH_TIMEOUT=<seconds>    deadline for getting a token (default 10)
  CCH_DEBUG=true           debug log on stderr; CCH_LOG=<file> appends it to a file (0600)

Wire it into ~/.docker/config.json:
  { "credHelpers": { "<registry host>": "${helperName.replace(/^docker-credential-/, "")}" } }
`;
}
