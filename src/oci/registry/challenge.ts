/**
 * WWW-Authenticate parsing (RFC 7235): one header may carry several challenges, each a
 * scheme and comma-separated `key=value` params (values token or quoted-string).
 */
export interface Challenge {
  /** Lowercased: "bearer", "basic", ... */
  scheme: string;
  params: Record<string, string>;
}

export function parseChallenges(header: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const s = header;
  const skipWs = () => {
    while (i < s.length && (s[i] === " " || s[i] === "\t")) i++;
  };
  const readToken = (): string => {
    const start = i;
    while (i < s.length && /[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  const readValue = (): string => {
    if (s[i] !== '"') {
      const start = i;
      while (i < s.length && s[i] !== "," && s[i] !== " " && s[i] !== "\t") i++;
      return s.slice(start, i);
    }
    i++;
    let v = "";
    while (i < s.length && s[i] !== '"') {
      if (s[i] === "\\" && i + 1 < s.length) i++;
      v += s[i];
      i++;
    }
    i++; // closing quote
    return v;
  };

  let current: Challenge | undefined;
  while (i < s.length) {
    skipWs();
    if (s[i] === ",") {
      i++;
      continue;
    }
    const token = readToken();
    if (!token) {
      i++; // stray character: skip it rather than loop forever
      continue;
    }
    skipWs();
    if (s[i] === "=" && current) {
      // `token68` values (e.g. base64 with trailing '=') are not used by registries; params are.
      i++;
      skipWs();
      current.params[token.toLowerCase()] = readValue();
    } else {
      current = { scheme: token.toLowerCase(), params: {} };
      out.push(current);
    }
  }
  return out;
}
