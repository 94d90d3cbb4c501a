import { createPrivateKey, createSign } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sh } from "../../harness/host.ts";

/**
 * A token issuer for docker-registry's `auth.token` mode (the Docker token flow): it checks
 * basic credentials and signs ES256 JWTs with a self-signed certificate the registry trusts
 * (rootcertbundle), carried in the `x5c` header. Anonymous callers get pull access only to
 * repositories under `public/`. Counts requests, so tests can see the token cache at work.
 */
export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  certPath: string;
  requests: { scopes: string[]; user?: string }[];
  stop(): void;
}

export function startTokenServer(dir: string, user: { name: string; password: string }): TokenServer {
  const key = join(dir, "token.key");
  const certPath = join(dir, "token.crt");
  sh(
    `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout '${key}' -out '${certPath}' -days 2 -subj /CN=shed-test-token 2>/dev/null`,
  );
  const privateKey = createPrivateKey(readFileSync(key));
  const der = readFileSync(certPath, "utf8").replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  const service = "shed-test-registry";
  const issuer = "shed-test-issuer";
  const requests: TokenServer["requests"] = [];

  const b64url = (b: Buffer | string) => Buffer.from(b).toString("base64url");
  const sign = (claims: object) => {
    const header = b64url(JSON.stringify({ alg: "ES256", typ: "JWT", x5c: [der] }));
    const payload = b64url(JSON.stringify(claims));
    const signer = createSign("SHA256");
    signer.update(`${header}.${payload}`);
    const sig = signer.sign({ key: privateKey, dsaEncoding: "ieee-p1363" });
    return `${header}.${payload}.${b64url(sig)}`;
  };

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const url = new URL(req.url);
      const scopes = url.searchParams.getAll("scope");
      const auth = req.headers.get("authorization");
      let authed: string | undefined;
      if (auth?.startsWith("Basic ")) {
        const [name, password] = Buffer.from(auth.slice(6), "base64").toString().split(":");
        if (name !== user.name || password !== user.password) return new Response("bad credentials", { status: 401 });
        authed = name;
      }
      requests.push({ scopes, ...(authed ? { user: authed } : {}) });
      const access = scopes
        .map((s) => s.split(":"))
        .filter((p) => p[0] === "repository" && p.length === 3)
        .map(([, name, actions]) => ({
          type: "repository",
          name,
          actions: authed ? actions!.split(",") : name!.startsWith("public/") ? ["pull"] : [],
        }));
      const now = Math.floor(Date.now() / 1000);
      const token = sign({
        iss: issuer,
        sub: authed ?? "",
        aud: service,
        exp: now + 300,
        nbf: now - 10,
        iat: now,
        jti: crypto.randomUUID(),
        access,
      });
      return Response.json({ token, expires_in: 300, issued_at: new Date().toISOString() });
    },
  });
  return { realm: `http://127.0.0.1:${server.port}/token`, service, issuer, certPath, requests, stop: () => server.stop(true) };
}
