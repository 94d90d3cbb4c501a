import { ShedError } from "../../api/errors.ts";
import { type Challenge, parseChallenges } from "./challenge.ts";
import type { CredentialSource, Credentials } from "./credentials.ts";

/**
 * Registry authentication, the Docker token flow: a request without credentials gets a 401
 * whose WWW-Authenticate says how to authenticate. Basic: send the user's credentials.
 * Bearer: ask the realm for a token for the scopes (with the user's credentials when there
 * are some, anonymously otherwise), then retry with it. Tokens are cached per registry and
 * scope set until shortly before they expire. Tokens and passwords are never logged.
 */
interface CachedToken {
  header: string;
  expiresAt: number;
}

const LOGIN_HINT = (registry: string) =>
  `log in on the server host with \`docker login ${registry}\` (it writes ~/.docker/config.json, which shed-server reads)`;

export class RegistryAuth {
  private readonly tokens = new Map<string, CachedToken>();
  /** The last challenge each registry sent, so later requests authenticate up front. */
  private readonly challenges = new Map<string, Challenge>();

  constructor(
    private readonly credentials: CredentialSource,
    private readonly fetchFn: typeof fetch = fetch,
  ) {}

  /** The Authorization header to send, when this registry's scheme and a token are known. */
  cachedHeader(registry: string, scopes: string[]): string | undefined {
    const challenge = this.challenges.get(registry);
    if (!challenge) return undefined;
    if (challenge.scheme === "basic") return basicHeader(this.credentials(registry));
    const cached = this.tokens.get(tokenKey(registry, scopes));
    return cached && cached.expiresAt > Date.now() ? cached.header : undefined;
  }

  /**
   * After a 401: learns the challenge and returns a header to retry with. Throws
   * REGISTRY_UNAUTHORIZED (with how to log in) when there is nothing better to send.
   */
  async authorize(registry: string, scopes: string[], wwwAuthenticate: string | null, what: string, sent: boolean): Promise<string> {
    const challenges = parseChallenges(wwwAuthenticate ?? "");
    const challenge = challenges.find((c) => c.scheme === "bearer") ?? challenges.find((c) => c.scheme === "basic");
    const creds = this.credentials(registry);
    if (!challenge) {
      throw new ShedError("REGISTRY_UNAUTHORIZED", `registry ${registry} refused ${what} (HTTP 401, no usable authentication challenge)`);
    }
    this.challenges.set(registry, challenge);
    if (challenge.scheme === "basic") {
      const header = basicHeader(creds);
      if (!header) throw unauthorized(registry, what, false);
      if (sent) throw unauthorized(registry, what, true);
      return header;
    }
    if (sent && !creds) throw unauthorized(registry, what, false);
    const token = await this.fetchToken(registry, challenge, scopes, creds);
    this.tokens.set(tokenKey(registry, scopes), token);
    return token.header;
  }

  hasCredentials(registry: string): boolean {
    return this.credentials(registry) !== undefined;
  }

  /** Forget a token the registry refused (e.g. its scope no longer suffices). */
  drop(registry: string, scopes: string[]): void {
    this.tokens.delete(tokenKey(registry, scopes));
  }

  private async fetchToken(registry: string, ch: Challenge, scopes: string[], creds: Credentials | undefined): Promise<CachedToken> {
    const realm = ch.params.realm;
    if (!realm || !/^https?:\/\//.test(realm)) {
      throw new ShedError("REGISTRY_ERROR", `registry ${registry} asked for a bearer token without a usable realm`);
    }
    const url = new URL(realm);
    const service = ch.params.service;
    // The scope the registry asked for, plus ours (push needs more than the challenge says).
    const allScopes = [...new Set([...(ch.params.scope ? ch.params.scope.split(" ") : []), ...scopes])];
    let res: Response;
    try {
      if (creds?.identityToken) {
        const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: creds.identityToken, client_id: "shed" });
        if (service) form.set("service", service);
        if (allScopes.length) form.set("scope", allScopes.join(" "));
        res = await this.fetchFn(url, { method: "POST", body: form, signal: AbortSignal.timeout(30_000) });
      } else {
        if (service) url.searchParams.set("service", service);
        for (const s of allScopes) url.searchParams.append("scope", s);
        const headers: Record<string, string> = {};
        const basic = basicHeader(creds);
        if (basic) headers.authorization = basic;
        res = await this.fetchFn(url, { headers, signal: AbortSignal.timeout(30_000) });
      }
    } catch (err) {
      throw new ShedError("REGISTRY_ERROR", `cannot reach the token server of ${registry} at ${url.origin}: ${(err as Error).message}`, { cause: err });
    }
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw unauthorized(registry, "a token", Boolean(creds));
    }
    if (!res.ok) {
      const text = (await res.text()).slice(0, 200);
      throw new ShedError("REGISTRY_ERROR", `the token server of ${registry} answered HTTP ${res.status}: ${text}`);
    }
    const body = (await res.json().catch(() => ({}))) as { token?: string; access_token?: string; expires_in?: number; issued_at?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new ShedError("REGISTRY_ERROR", `the token server of ${registry} sent no token`);
    const lifetime = Math.max(60, body.expires_in ?? 60) * 1000;
    const issued = body.issued_at ? Date.parse(body.issued_at) : Date.now();
    // Renew a little early so a token never expires in the middle of a request.
    const expiresAt = (Number.isFinite(issued) ? issued : Date.now()) + lifetime - 10_000;
    return { header: `Bearer ${token}`, expiresAt };
  }
}

export function unauthorized(registry: string, what: string, hadCredentials: boolean): ShedError {
  return new ShedError(
    "REGISTRY_UNAUTHORIZED",
    hadCredentials
      ? `registry ${registry} refused the credentials for ${what} (wrong user or password, or no access to it); ${LOGIN_HINT(registry)}`
      : `registry ${registry} needs credentials for ${what} and none are configured; ${LOGIN_HINT(registry)}`,
  );
}

function basicHeader(creds: Credentials | undefined): string | undefined {
  if (!creds?.username || creds.password === undefined) return undefined;
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
}

function tokenKey(registry: string, scopes: string[]): string {
  return `${registry}|${[...scopes].sort().join(" ")}`;
}
