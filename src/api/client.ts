import * as v from "valibot";
import { type ErrorBody, isErrorCode, ShedError } from "./errors.ts";
import { type ServerInfo, ServerInfoSchema } from "./schemas/info.ts";
import {
  type CreateShedRequest,
  type Progress,
  type Shed,
  ShedListSchema,
  ShedSchema,
} from "./schemas/shed.ts";
import { readEventStream } from "./sse.ts";

/** Where a server is, as the client config stores it. */
export interface ServerEndpoint {
  name: string;
  host: string;
  httpPort: number;
  sshPort: number;
  token?: string;
  /** Pinned SSH host key (OpenSSH public key line), set by `shed server add`. */
  hostKey?: string;
  /** Not configured: the local default, used because nothing else is. */
  implicit?: boolean;
}

/** How long a call waits for the server to start answering unless told (--timeout, SHED_TIMEOUT). */
export const DEFAULT_TIMEOUT_MS = 10_000;

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | undefined>;
  /** Stream progress as SSE; the final result is returned. */
  onProgress?: Progress;
  /** Wait this long (ms) for the answer to start, on top of the client's timeout (a stop's own budget). */
  extraTimeoutMs?: number;
}

/**
 * Typed client for /api. The CLI's only way to the server (besides SSH); every failure
 * comes back as a ShedError with the server's code, or SERVER_UNREACHABLE.
 */
export class ApiClient {
  readonly baseUrl: string;

  constructor(
    readonly endpoint: ServerEndpoint,
    /** How long a call may wait for its answer to start: connecting included. 0: no limit. */
    readonly timeoutMs = DEFAULT_TIMEOUT_MS,
  ) {
    const host = endpoint.host.includes(":") ? `[${endpoint.host}]` : endpoint.host;
    this.baseUrl = `http://${host}:${endpoint.httpPort}`;
  }

  async request(method: string, path: string, opts: RequestOptions = {}): Promise<unknown> {
    const url = new URL(`/api${path}`, this.baseUrl);
    for (const [k, val] of Object.entries(opts.query ?? {})) {
      if (val !== undefined) url.searchParams.set(k, val);
    }
    const headers: Record<string, string> = {};
    if (opts.body !== undefined) headers["content-type"] = "application/json";
    if (opts.onProgress) headers.accept = "text/event-stream";
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const { res, done } = await this.open(url, { method, headers, body }, opts.extraTimeoutMs);
    try {
      if (!res.ok) throw await errorFromResponse(res);
      if (res.headers.get("content-type")?.startsWith("text/event-stream") && res.body) {
        done(); // progress may take as long as the operation does
        return await this.guard(readEventStream(res.body, opts.onProgress ?? (() => {})));
      }
      if (res.status === 204) return undefined;
      return await this.guard(res.json());
    } finally {
      done();
    }
  }

  /**
   * fetch with the client's timeout until the answer's headers arrive (and its body, until
   * `done()`); every failure is a ShedError that says what happened in one line.
   */
  async open(url: URL, init: RequestInit, extraMs = 0): Promise<{ res: Response; done: () => void }> {
    const headers = new Headers(init.headers);
    if (this.endpoint.token) headers.set("authorization", `Bearer ${this.endpoint.token}`);
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
      const res = await fetch(url, { ...init, headers, signal: abort.signal });
      return { res, done };
    } catch (err) {
      done();
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

  async info(): Promise<ServerInfo> {
    return v.parse(ServerInfoSchema, await this.request("GET", "/info"));
  }

  async listSheds(): Promise<Shed[]> {
    return v.parse(ShedListSchema, await this.request("GET", "/sheds")).sheds;
  }

  async getShed(name: string): Promise<Shed> {
    return v.parse(ShedSchema, await this.request("GET", `/sheds/${encodeURIComponent(name)}`));
  }

  async createShed(req: CreateShedRequest, onProgress?: Progress): Promise<Shed> {
    return v.parse(ShedSchema, await this.request("POST", "/sheds", { body: req, onProgress }));
  }

  async deleteShed(name: string, force: boolean, onProgress?: Progress): Promise<void> {
    await this.request("DELETE", `/sheds/${encodeURIComponent(name)}`, {
      query: { force: force ? "true" : undefined },
      onProgress,
    });
  }

  async shedAction(
    name: string,
    action: "start" | "stop" | "reset",
    body?: unknown,
    onProgress?: Progress,
  ): Promise<Shed> {
    const path = `/sheds/${encodeURIComponent(name)}/${action}`;
    // A stop runs the shutdown hook (up to 30 s) and waits its own timeout before it answers.
    const stopSeconds = (body as { timeoutSeconds?: number } | undefined)?.timeoutSeconds ?? 60;
    const extraTimeoutMs = action === "stop" ? (stopSeconds + 30) * 1000 : 0;
    return v.parse(ShedSchema, await this.request("POST", path, { body, onProgress, extraTimeoutMs }));
  }
}

export async function errorFromResponse(res: Response): Promise<ShedError> {
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
export function networkReason(err: unknown): string {
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
