import { ShedError } from "../../api/errors.ts";
import type { Logger } from "../../log/logger.ts";
import { RegistryAuth, unauthorized } from "./auth.ts";
import { type CredentialSource, dockerConfigCredentials } from "./credentials.ts";

/**
 * HTTP to registries (the distribution API, /v2/...): scheme choice, authentication with one
 * retry after a 401 challenge, redirects (credentials never follow to another host), the
 * registry's JSON errors turned into ShedErrors. Operations are in manifests.ts, blobs.ts,
 * upload.ts; this file only moves requests.
 */
export interface RegistryClientOptions {
  credentials?: CredentialSource;
  /** Registries spoken to over plain HTTP besides loopback ones (host[:port]). */
  insecureRegistries?: string[];
  logger?: Logger;
  fetch?: typeof fetch;
}

/** A repository in a registry: what every request is about. */
export interface Repo {
  /** host[:port] to connect to. */
  registry: string;
  /** Repository path, e.g. `library/busybox`. */
  path: string;
}

export interface RegistryRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: Uint8Array | Blob | null;
  /** "pull" or "pull,push"; extra scopes (cross-repo mount) may be added. */
  access: "pull" | "pull,push";
  extraScopes?: string[];
  /** For error messages: "the manifest of x:y". */
  what: string;
  /** Statuses the caller handles itself (not turned into errors). */
  accept?: number[];
  signal?: AbortSignal;
}

const MAX_REDIRECTS = 5;

export class RegistryClient {
  readonly auth: RegistryAuth;
  private readonly fetchFn: typeof fetch;
  private readonly insecure: Set<string>;

  constructor(readonly opts: RegistryClientOptions = {}) {
    this.fetchFn = opts.fetch ?? fetch;
    this.auth = new RegistryAuth(opts.credentials ?? dockerConfigCredentials(), this.fetchFn);
    this.insecure = new Set(opts.insecureRegistries ?? []);
  }

  baseUrl(registry: string): string {
    return `${this.isPlainHttp(registry) ? "http" : "https"}://${registry}`;
  }

  /** Loopback registries speak plain HTTP (as Docker allows); everything else HTTPS. */
  isPlainHttp(registry: string): boolean {
    if (this.insecure.has(registry)) return true;
    const host = registry.startsWith("[") ? registry.slice(1, registry.indexOf("]")) : registry.split(":")[0]!;
    return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
  }

  /** `/v2/<repo>/<rest>` or an absolute URL (upload locations). */
  url(repo: Repo, pathOrUrl: string): URL {
    if (/^https?:\/\//.test(pathOrUrl)) return new URL(pathOrUrl);
    if (pathOrUrl.startsWith("/")) return new URL(pathOrUrl, this.baseUrl(repo.registry));
    return new URL(`/v2/${repo.path}/${pathOrUrl}`, this.baseUrl(repo.registry));
  }

  scopes(repo: Repo, req: Pick<RegistryRequest, "access" | "extraScopes">): string[] {
    return [`repository:${repo.path}:${req.access}`, ...(req.extraScopes ?? [])];
  }

  /** Sends a request; the answer is 2xx, 3xx-resolved, or one of `accept`, else a ShedError. */
  async request(repo: Repo, pathOrUrl: string, req: RegistryRequest): Promise<Response> {
    const scopes = this.scopes(repo, req);
    let url = this.url(repo, pathOrUrl);
    let authHeader = this.auth.cachedHeader(repo.registry, scopes);
    let retriedAuth = false;
    for (let hops = 0; ; ) {
      const sameHost = url.host === repo.registry;
      const headers: Record<string, string> = { "user-agent": "shed", ...req.headers };
      if (authHeader && sameHost) headers.authorization = authHeader;
      let res: Response;
      try {
        res = await this.fetchFn(url, {
          method: req.method ?? "GET",
          headers,
          body: req.body ?? undefined,
          redirect: "manual",
          signal: req.signal,
        });
      } catch (err) {
        throw networkError(repo.registry, req.what, err);
      }
      if (res.status === 401 && sameHost && !retriedAuth) {
        await res.body?.cancel();
        retriedAuth = true;
        if (authHeader) this.auth.drop(repo.registry, scopes);
        authHeader = await this.auth.authorize(repo.registry, scopes, res.headers.get("www-authenticate"), req.what, Boolean(authHeader));
        continue;
      }
      if (res.status >= 300 && res.status < 400 && res.headers.get("location") && !(req.accept ?? []).includes(res.status)) {
        await res.body?.cancel();
        if (++hops > MAX_REDIRECTS) throw new ShedError("REGISTRY_ERROR", `too many redirects from ${repo.registry} for ${req.what}`);
        url = new URL(res.headers.get("location")!, url);
        continue;
      }
      if (res.ok || (req.accept ?? []).includes(res.status)) return res;
      throw await responseError(res, repo, req.what, this.auth.hasCredentials(repo.registry));
    }
  }
}

/** Network-level failures: fetch threw (refused, reset, DNS, TLS). Retryable by downloads. */
export class RegistryNetworkError extends ShedError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("REGISTRY_ERROR", message, options);
  }
}

export function networkError(registry: string, what: string, err: unknown): ShedError {
  if (err instanceof ShedError) return err;
  if ((err as Error).name === "AbortError" || (err as Error).name === "TimeoutError") {
    return new RegistryNetworkError(`registry ${registry} did not answer in time for ${what}`, { cause: err });
  }
  const code = (err as { code?: string }).code;
  const reason = code === "ConnectionRefused" || code === "ECONNREFUSED" ? "connection refused" : (err as Error).message;
  return new RegistryNetworkError(`cannot reach registry ${registry} for ${what}: ${reason}`, { cause: err });
}

/** The registry's error body (`{"errors":[{"code","message"}]}`) as a ShedError with our code. */
export async function responseError(res: Response, repo: Repo, what: string, hadCredentials: boolean): Promise<ShedError> {
  const text = (await res.text().catch(() => "")).slice(0, 2000);
  let detail = "";
  let codes: string[] = [];
  try {
    const body = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    codes = (body.errors ?? []).map((e) => e.code ?? "");
    detail = (body.errors ?? []).map((e) => `${e.code ?? "ERROR"}: ${e.message ?? ""}`).join("; ");
  } catch {
    detail = text.trim().slice(0, 200);
  }
  const suffix = detail ? ` (${detail})` : "";
  if (res.status === 401) return unauthorized(repo.registry, what, hadCredentials);
  if (res.status === 403) {
    return new ShedError("REGISTRY_UNAUTHORIZED", `registry ${repo.registry} denied access to ${what}${suffix}; check that your account may use ${repo.path}`);
  }
  if (res.status === 404 || codes.some((c) => c === "MANIFEST_UNKNOWN" || c === "NAME_UNKNOWN" || c === "BLOB_UNKNOWN")) {
    return new ShedError("IMAGE_NOT_FOUND", `registry ${repo.registry} has no ${what}${suffix}`);
  }
  if (res.status === 413 || res.status === 507) {
    return new ShedError("REGISTRY_ERROR", `registry ${repo.registry} has no room for ${what} (HTTP ${res.status})${suffix}`);
  }
  const err = new ShedError("REGISTRY_ERROR", `registry ${repo.registry} failed ${what}: HTTP ${res.status}${suffix}`);
  (err as ShedError & { httpStatus?: number }).httpStatus = res.status;
  return err;
}
