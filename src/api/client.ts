import * as v from "valibot";
import type { Transport } from "../agent/protocol/transport.ts";
import { type CallArgs, type CallOptions, type CallResult, checkParams, checkQuery, type Endpoint } from "./endpoint.ts";
import { type ErrorBody, isErrorCode, ShedError } from "./errors.ts";
import { readEventStream } from "./sse.ts";
import { PinMismatch, pinnedFetch } from "./pinned-http.ts";
import { isTlsFailure, type PinnedTls, pinMismatch, pinnedTlsOptions, tlsFailure } from "./tls-pin.ts";
import { formatIssues } from "./validation.ts";

/** Where a server is, as the client config stores it. */
export interface ServerEndpoint {
  name: string;
  host: string;
  httpPort: number;
  sshPort: number;
  token?: string;
  /** Pinned SSH host key (OpenSSH public key line), set by `shed server add`. */
  hostKey?: string;
  /** auth.mode token and mtls: HTTPS with the certificate pinned by `shed server add`. Never plain HTTP then. */
  tls?: PinnedTls;
  /** When the token stops working (ISO time), and when it was minted: refreshed before it does. */
  tokenExpiresAt?: string;
  tokenIssuedAt?: string;
  /** Mints a new token (over SSH; in mtls with a new client certificate) and keeps it; called near or past expiry. */
  refreshToken?: () => Promise<RefreshedCredentials>;
  /** Not configured: the local default, used because nothing else is. */
  implicit?: boolean;
}

export interface RefreshedCredentials {
  token: string;
  expiresAt: string;
  issuedAt: string;
  /** mtls: the certificate and key signed with the token (same expiry). */
  clientCert?: string;
  clientKey?: string;
}

/** How long a call waits for the server to start answering unless told (--timeout, SHED_TIMEOUT). */
export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Typed client for /api. The CLI's only way to the server (besides SSH); every failure
 * comes back as a ShedError with the server's code, or SERVER_UNREACHABLE.
 */
export class ApiClient {
  readonly baseUrl: string;
  private token: string | undefined;
  /** The pin and, in mtls, the client certificate: renewed with the token. */
  private tls: PinnedTls | undefined;
  private tokenTimes: { expiresAt?: string; issuedAt?: string };
  private refreshing: Promise<void> | undefined;

  constructor(
    readonly endpoint: ServerEndpoint,
    /** How long a call may wait for its answer to start: connecting included. 0: no limit. */
    readonly timeoutMs = DEFAULT_TIMEOUT_MS,
  ) {
    const host = endpoint.host.includes(":") ? `[${endpoint.host}]` : endpoint.host;
    this.baseUrl = endpoint.tls ? `https://${host}:${endpoint.tls.port}` : `http://${host}:${endpoint.httpPort}`;
    this.token = endpoint.token;
    this.tls = endpoint.tls;
    this.tokenTimes = { expiresAt: endpoint.tokenExpiresAt, issuedAt: endpoint.tokenIssuedAt };
  }

  /**
   * One call of a catalog endpoint: path parameters and query are checked here against the
   * endpoint's schemas first (a name like `..` never leaves this process), and the answer is
   * parsed with its response schema. Progress endpoints always answer as SSE (so the timeout
   * covers only the wait for the answer to start); binary answers come back as a stream.
   */
  async call<E extends Endpoint>(ep: E, ...[options]: CallArgs<E>): Promise<CallResult<E>> {
    const opts = (options ?? {}) as CallOptions<Endpoint> & { body?: unknown; query?: Record<string, unknown> };
    if (ep.websocket) return (await this.dial(this.url(ep, opts, "ws:"))) as CallResult<E>;
    const headers: Record<string, string> = {};
    let body: RequestInit["body"];
    if (ep.binary === "request") {
      headers["content-type"] = "application/x-tar";
      body = opts.body as RequestInit["body"];
    } else if (opts.body !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(opts.body);
    }
    if (ep.progress) headers.accept = "text/event-stream";
    const init = { method: ep.method.toUpperCase(), headers, body, ...(ep.binary === "request" ? { duplex: "half" as const } : {}) };
    const extraMs = ep.slowAnswerMs ? (ep.slowAnswerMs as (req: unknown) => number)(opts.body) : 0;
    // JSON and SSE to a pinned server go over the small client (pinned-http.ts); archives stay on fetch.
    const small = !ep.binary;
    const { res, done } = await this.open(this.url(ep, opts, "http:"), init, extraMs, opts.signal, small);
    try {
      if (!res.ok) throw await errorFromResponse(res);
      if (ep.binary === "response") {
        done(); // the archive may take as long as it is big
        if (!res.body) throw new ShedError("PROTOCOL_ERROR", `the server sent no archive for ${ep.id}`);
        const len = res.headers.get("content-length");
        return { body: res.body, ...(len ? { size: Number(len) } : {}) } as CallResult<E>;
      }
      let answer: unknown;
      if (res.headers.get("content-type")?.startsWith("text/event-stream") && res.body) {
        done(); // progress may take as long as the operation does
        answer = await this.guard(readEventStream(res.body, opts.onProgress ?? (() => {})));
      } else if (res.status !== 204) {
        answer = await this.guard(res.json());
      }
      return (ep.response ? parseAnswer(ep, ep.response, answer) : undefined) as CallResult<E>;
    } finally {
      done();
    }
  }

  /** The URL of an endpoint with its parameters checked and encoded, and its query checked. */
  private url(ep: Endpoint, opts: { params?: Record<string, string>; query?: Record<string, unknown> }, scheme: "http:" | "ws:"): URL {
    checkParams(ep, opts.params ?? {});
    const query = opts.query ?? {};
    checkQuery(ep, query);
    const path = ep.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(opts.params?.[name] ?? ""));
    const url = new URL(path, this.baseUrl);
    url.protocol = this.endpoint.tls ? (scheme === "ws:" ? "wss:" : "https:") : scheme;
    for (const [key, value] of Object.entries(query)) {
      for (const item of Array.isArray(value) ? value : value === undefined ? [] : [value]) url.searchParams.append(key, String(item));
    }
    return url;
  }

  /** Opens a WebSocket with the client's token and timeout; a refusal is SERVER_UNREACHABLE. */
  private async dial(url: URL): Promise<Transport> {
    // Loaded here: only the commands that talk to an agent need it at all.
    const { dialWebSocket } = await import("../agent/protocol/transports/websocket.ts");
    await this.freshToken();
    const headers: Record<string, string> = this.token ? { authorization: `Bearer ${this.token}` } : {};
    const tls = this.tls;
    const dialing = dialWebSocket(url.href, headers, tls ? pinnedTlsOptions(tls) : undefined).catch(async (err) => {
      const cause = err instanceof ShedError ? (err.cause ?? err) : err;
      if (tls && isTlsFailure(cause)) throw await tlsFailure(this.endpoint.name, this.endpoint.host, tls, cause);
      throw this.unreachable(cause);
    });
    if (!this.timeoutMs) return dialing;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(this.timedOut(this.timeoutMs)), this.timeoutMs);
    });
    return Promise.race([dialing, timeout]).finally(() => clearTimeout(timer));
  }

  /**
   * fetch with the client's timeout until the answer's headers arrive (and its body, until
   * `done()`); every failure is a ShedError that says what happened in one line.
   */
  private async open(url: URL, init: RequestInit, extraMs: number, signal: AbortSignal | undefined, small: boolean): Promise<{ res: Response; done: () => void }> {
    await this.freshToken();
    const first = await this.openOnce(url, init, extraMs, signal, small);
    // A token that ran out between the check and the call: mint one and send it again (a
    // streamed body cannot be sent twice, so that answer stands).
    if (first.res.status !== 401 || !this.endpoint.refreshToken || init.body instanceof ReadableStream) return first;
    const text = await first.res.text();
    first.done();
    if (!text.includes('"TOKEN_EXPIRED"')) return { res: new Response(text, { status: first.res.status, headers: first.res.headers }), done: () => {} };
    await this.refresh();
    return this.openOnce(url, init, extraMs, signal, small);
  }

  /** Refreshes the token when it is past or near its expiry: a quarter of its life, at most 10 minutes ahead. */
  private async freshToken(): Promise<void> {
    const { expiresAt, issuedAt } = this.tokenTimes;
    if (!this.endpoint.refreshToken || !expiresAt) return;
    const end = Date.parse(expiresAt);
    const life = issuedAt ? end - Date.parse(issuedAt) : 0;
    const margin = Math.min(10 * 60_000, Math.max(0, life / 4));
    if (Date.now() < end - margin) return;
    await this.refresh();
  }

  private refresh(): Promise<void> {
    this.refreshing ??= this.endpoint.refreshToken!()
      .then((t) => {
        this.token = t.token;
        this.tokenTimes = { expiresAt: t.expiresAt, issuedAt: t.issuedAt };
        if (this.tls && t.clientCert && t.clientKey) this.tls = { ...this.tls, clientCert: t.clientCert, clientKey: t.clientKey };
      })
      .finally(() => {
        this.refreshing = undefined;
      });
    return this.refreshing;
  }

  private async openOnce(url: URL, init: RequestInit, extraMs: number, signal: AbortSignal | undefined, small: boolean): Promise<{ res: Response; done: () => void }> {
    const headers = new Headers(init.headers);
    if (this.token) headers.set("authorization", `Bearer ${this.token}`);
    const abort = new AbortController();
    const limit = this.timeoutMs > 0 ? this.timeoutMs + extraMs : 0;
    let timedOut = false;
    const timer = limit
      ? setTimeout(() => {
          timedOut = true;
          abort.abort();
        }, limit)
      : undefined;
    const done = () => clearTimeout(timer);
    try {
      const both = signal ? AbortSignal.any([abort.signal, signal]) : abort.signal;
      if (this.tls && small && (init.body === undefined || typeof init.body === "string")) {
        const res = await pinnedFetch({ method: init.method ?? "GET", url, headers, body: init.body, signal: both }, this.tls);
        return { res, done };
      }
      const tls = this.tls ? { tls: pinnedTlsOptions(this.tls) } : {};
      // timeout: false turns off Bun's own 5-minute idle limit: this client keeps its own, and
      // a progress stream may rightly be quiet for long (the server also sends keepalives).
      const request: RequestInit & { timeout: boolean } = {
        ...init,
        ...tls,
        headers,
        timeout: false,
        signal: both,
      };
      const res = await fetch(url, request);
      return { res, done };
    } catch (err) {
      done();
      if (signal?.aborted) throw signal.reason;
      if (this.tls && err instanceof PinMismatch) throw pinMismatch(this.endpoint.name, this.endpoint.host, this.tls, err.presented, err);
      if (this.tls && !timedOut && isTlsFailure(err)) throw await tlsFailure(this.endpoint.name, this.endpoint.host, this.tls, err);
      throw timedOut ? this.timedOut(limit) : this.unreachable(err);
    }
  }

  /** A body that breaks off (server killed, network gone) is CONNECTION_LOST, not a runtime's message. */
  async guard<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (err) {
      if (err instanceof ShedError) throw err;
      throw this.lost(err);
    }
  }

  timedOut(ms: number): ShedError {
    return new ShedError(
      "TIMEOUT",
      `server "${this.endpoint.name}" at ${this.baseUrl} did not answer within ${formatSeconds(ms)}; ` +
        "is it overloaded or stuck? (--timeout or SHED_TIMEOUT sets the limit)",
    );
  }

  lost(err: unknown): ShedError {
    return new ShedError(
      "CONNECTION_LOST",
      `the connection to server "${this.endpoint.name}" at ${this.baseUrl} broke off (${networkReason(err)}); ` +
        "the server may have restarted: check with `shed list`",
      { cause: err },
    );
  }

  unreachable(err: unknown): ShedError {
    const reason = networkReason(err);
    if (this.endpoint.implicit) {
      return new ShedError(
        "NO_SERVER",
        `no server is configured and none answers at ${this.baseUrl} (${reason}): ` +
          "add one with `shed server add HOST`, set SHED_SERVER=HOST:PORT, or start a local one with `shed-server serve`",
        { cause: err },
      );
    }
    if (/reset|closed|broke/i.test(reason)) return this.lost(err);
    return new ShedError(
      "SERVER_UNREACHABLE",
      `cannot reach server "${this.endpoint.name}" at ${this.baseUrl}: ${reason}. ` +
        "Is shed-server running there? (start it with `shed-server serve`, or pick another with -s)",
      { cause: err },
    );
  }
}

/** The answer parsed with the endpoint's response schema; one that does not fit is the server's fault, said so. */
function parseAnswer(ep: Endpoint, schema: v.GenericSchema, answer: unknown): unknown {
  const result = v.safeParse(schema, answer);
  if (result.success) return result.output;
  throw new ShedError("PROTOCOL_ERROR", `the server's answer to ${ep.method.toUpperCase()} ${ep.path} is not what this CLI expects (${formatIssues(result.issues)}); are client and server versions apart?`);
}

async function errorFromResponse(res: Response): Promise<ShedError> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as Partial<ErrorBody>;
    if (isErrorCode(body.code) && typeof body.message === "string") {
      return new ShedError(body.code, body.message);
    }
  } catch {
    // not our error format: fall through
  }
  return new ShedError("INTERNAL", `HTTP ${res.status}: ${text.slice(0, 200) || res.statusText}`);
}

/** One line for a network failure: the errno, or the runtime's first sentence. */
function networkReason(err: unknown): string {
  const code = (err as { code?: string }).code;
  if (code === "ConnectionRefused" || code === "ECONNREFUSED") return "connection refused";
  if (code === "ECONNRESET" || code === "ConnectionClosed") return "connection reset";
  if (code === "FailedToOpenSocket" || code === "ENOTFOUND" || code === "EAI_NONAME") return "host not found";
  if (code === "ETIMEDOUT") return "timed out";
  const message = err instanceof Error ? err.message : String(err);
  // Bun adds "For more information, pass `verbose: true` ..." to its fetch errors.
  return message.split(/\. For more information|\n/)[0]!.replace(/\.$/, "") || String(code ?? "network error");
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}
