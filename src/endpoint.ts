// Where a secret may be sent when a setting or variable overrides an
// endpoint (a signed request, a pod's token, a client assertion): https
// anywhere, plain http only to this machine. Loopback by address, not by
// name: "localhost" is whatever /etc/hosts says.

const LOOPBACK_ADDRESSES = new Set(["127.0.0.1", "[::1]"]);

export interface EndpointRules {
  /** Allow a query string (default: no). */
  query?: boolean;
  /** Allow a path beyond "/" (default: yes). */
  path?: boolean;
}

/** The URL when it may receive a secret under these rules; null otherwise. Never userinfo or a fragment. */
export function parseSecretEndpoint(value: string, rules: EndpointRules = {}): URL | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.username !== "" || url.password !== "" || url.hash !== "") return null;
  if (!rules.query && url.search !== "") return null;
  if (rules.path === false && url.pathname !== "/" && url.pathname !== "") return null;
  if (url.protocol === "https:") return url;
  return url.protocol === "http:" && LOOPBACK_ADDRESSES.has(url.hostname) ? url : null;
}
