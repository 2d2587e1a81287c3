// A parser for the `Www-Authenticate` header (RFC 9110 §11.6.1): one or more
// challenges, each a scheme followed by either a token68 or comma-separated
// auth-params whose values are tokens or quoted strings (with `\` escapes,
// and commas allowed inside the quotes; bare values may be URLs, as servers
// send them). Parameter names are case-insensitive and come in any order.
// Pure; it never throws: what it cannot read it skips.

export interface Challenge {
  /** Lower-cased auth scheme, e.g. `bearer`. */
  scheme: string;
  /** Lower-cased parameter names to values (the first occurrence wins). */
  params: Record<string, string>;
  token68: string | null;
}

const TCHAR = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;
const TOKEN68_CHAR = /[A-Za-z0-9\-._~+/]/;

export function parseWwwAuthenticate(header: string): Challenge[] {
  const s = header;
  let i = 0;
  const out: Challenge[] = [];

  const skipSpace = () => {
    while (i < s.length && (s[i] === " " || s[i] === "\t")) i++;
  };
  const skipSeparators = () => {
    while (i < s.length && (s[i] === " " || s[i] === "\t" || s[i] === ",")) i++;
  };
  const readToken = (): string => {
    const start = i;
    while (i < s.length && TCHAR.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  // Servers send unquoted URLs (`realm=https://x/y`), which are not RFC tokens:
  // an unquoted value runs to the next comma or space.
  const readBare = (): string => {
    const start = i;
    while (i < s.length && s[i] !== "," && s[i] !== " " && s[i] !== "\t") i++;
    return s.slice(start, i);
  };
  const readQuoted = (): string => {
    // s[i] is the opening quote.
    i++;
    let value = "";
    while (i < s.length && s[i] !== '"') {
      if (s[i] === "\\" && i + 1 < s.length) i++;
      value += s[i];
      i++;
    }
    i++; // closing quote (or end of input)
    return value;
  };

  skipSeparators();
  while (i < s.length) {
    const scheme = readToken();
    if (scheme === "") {
      // Not a token: resynchronise at the next comma.
      while (i < s.length && s[i] !== ",") i++;
      skipSeparators();
      continue;
    }
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: Object.create(null), token68: null };
    out.push(challenge);
    skipSpace();

    // A token68 (`Basic dXNlcjpwYXNz`) is followed by optional `=` padding
    // and then a comma or the end; `name=value` starts auth-params instead.
    if (!isParamStart(s, i)) {
      const save = i;
      let t68 = "";
      while (i < s.length && TOKEN68_CHAR.test(s[i]!)) t68 += s[i++];
      while (i < s.length && s[i] === "=") t68 += s[i++];
      skipSpace();
      if (t68 !== "" && (i >= s.length || s[i] === ",")) {
        challenge.token68 = t68;
        skipSeparators();
        continue;
      }
      i = save;
    }

    // auth-params until the next challenge (a token not followed by `=`).
    for (;;) {
      skipSeparators();
      const start = i;
      const name = readToken();
      if (name === "") break;
      skipSpace();
      if (s[i] !== "=") {
        // That token was the next challenge's scheme.
        i = start;
        break;
      }
      i++;
      skipSpace();
      const value = s[i] === '"' ? readQuoted() : readBare();
      const key = name.toLowerCase();
      if (!(key in challenge.params)) challenge.params[key] = value;
      skipSpace();
      if (i < s.length && s[i] !== ",") {
        // Garbage after a value: skip to the next comma.
        while (i < s.length && s[i] !== ",") i++;
      }
    }
  }
  return out;
}

/** Whether the text at `at` reads `name=` or `name =` (an auth-param, not a token68). */
function isParamStart(s: string, at: number): boolean {
  const m = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+[ \t]*=[ \t]*(?:"|[!#$%&'*+.^_`|~0-9A-Za-z-])/.exec(s.slice(at));
  return m !== null;
}
