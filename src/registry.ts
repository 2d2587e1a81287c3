// Server URLs arrive in every shape clients send: `host`, `host:port`,
// `https://host/v2/…`, `https://index.docker.io/v1/`, `docker.io`. They all
// normalise to one host key. Anything that is not a plain host (userinfo,
// odd characters, an unknown scheme) is refused, because a token is only ever
// handed to a host we can name exactly.

export interface RegistryHost {
  /** `hostname` or `hostname:port`, lower-cased: the key for store, cache and config. */
  key: string;
  /** Lower-cased host name without port: what provider patterns are matched against. */
  hostname: string;
  port: number | null;
}

export type ParseResult = { ok: true; host: RegistryHost } | { ok: false; reason: string };

const DOCKER_HUB_ALIASES = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);
const DOCKER_HUB_KEY = "docker.io";

// One DNS label: letters, digits, hyphen and underscore (ECR region labels may
// carry `_`), not starting or ending with a hyphen, at most 63 characters.
const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;
const IPV6 = /^\[[0-9a-f:.]+\]$/;
const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;
export const MAX_SERVER_URL_LENGTH = 4096;

export function parseServerUrl(input: string): ParseResult {
  const raw = input.trim();
  if (raw.length === 0) return { ok: false, reason: "empty server URL" };
  if (raw.length > MAX_SERVER_URL_LENGTH) return { ok: false, reason: "server URL is too long" };

  let rest = raw;
  const scheme = SCHEME.exec(rest);
  if (scheme) {
    const name = scheme[1]!.toLowerCase();
    if (name !== "http" && name !== "https") return { ok: false, reason: `unsupported scheme ${name}` };
    rest = rest.slice(scheme[0].length);
  } else if (rest.includes("://")) {
    return { ok: false, reason: "malformed scheme" };
  }

  const end = rest.search(/[/?#]/);
  const authority = end === -1 ? rest : rest.slice(0, end);
  return parseAuthority(authority);
}

export function parseAuthority(authority: string): ParseResult {
  if (authority.length === 0) return { ok: false, reason: "no host" };
  if (authority.includes("@")) return { ok: false, reason: "user information is not allowed in a server URL" };
  if (/[\s\\%]/.test(authority)) return { ok: false, reason: "invalid character in host" };

  const lower = authority.toLowerCase();
  let hostname: string;
  let portText: string | null = null;
  if (lower.startsWith("[")) {
    const close = lower.indexOf("]");
    if (close === -1) return { ok: false, reason: "unterminated IPv6 address" };
    hostname = lower.slice(0, close + 1);
    const after = lower.slice(close + 1);
    if (after !== "") {
      if (!after.startsWith(":")) return { ok: false, reason: "invalid host" };
      portText = after.slice(1);
    }
    if (!IPV6.test(hostname)) return { ok: false, reason: "invalid IPv6 address" };
  } else {
    const colon = lower.indexOf(":");
    hostname = colon === -1 ? lower : lower.slice(0, colon);
    if (colon !== -1) portText = lower.slice(colon + 1);
    if (!isHostname(hostname)) return { ok: false, reason: "invalid host name" };
  }

  let port: number | null = null;
  if (portText !== null) {
    if (!/^\d{1,5}$/.test(portText)) return { ok: false, reason: "invalid port" };
    port = Number(portText);
    if (port < 1 || port > 65535) return { ok: false, reason: "invalid port" };
  }

  if (port === null && DOCKER_HUB_ALIASES.has(hostname)) {
    return { ok: true, host: { key: DOCKER_HUB_KEY, hostname: DOCKER_HUB_KEY, port: null } };
  }
  const key = port === null ? hostname : `${hostname}:${port}`;
  return { ok: true, host: { key, hostname, port } };
}

export function isHostname(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  return name.split(".").every((label) => LABEL.test(label));
}
