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
}

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | undefined>;
  /** Stream progress as SSE; the final result is returned. */
  onProgress?: Progress;
  signal?: AbortSignal;
}

/**
 * Typed client for /api. The CLI's only way to the server (besides SSH); every failure
 * comes back as a ShedError with the server's code, or SERVER_UNREACHABLE.
 */
export class ApiClient {
  readonly baseUrl: string;

  constructor(readonly endpoint: ServerEndpoint) {
    const host = endpoint.host.includes(":") ? `[${endpoint.host}]` : endpoint.host;
    this.baseUrl = `http://${host}:${endpoint.httpPort}`;
  }

  async request(method: string, path: string, opts: RequestOptions = {}): Promise<unknown> {
    const url = new URL(`/api${path}`, this.baseUrl);
    for (const [k, val] of Object.entries(opts.query ?? {})) {
      if (val !== undefined) url.searchParams.set(k, val);
    }
    const headers: Record<string, string> = {};
    if (this.endpoint.token) headers.authorization = `Bearer ${this.endpoint.token}`;
    if (opts.body !== undefined) headers["content-type"] = "application/json";
    if (opts.onProgress) headers.accept = "text/event-stream";
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: opts.signal,
      });
    } catch (err) {
      throw this.unreachable(err);
    }
    if (!res.ok) throw await errorFromResponse(res);
    if (res.headers.get("content-type")?.startsWith("text/event-stream") && res.body) {
      return readEventStream(res.body, opts.onProgress ?? (() => {}));
    }
    if (res.status === 204) return undefined;
    return res.json();
  }

  unreachable(err: unknown): ShedError {
    const code = (err as { code?: string }).code;
    const reason =
      code === "ConnectionRefused" || code === "ECONNREFUSED"
        ? "connection refused"
        : err instanceof Error
          ? err.message
          : String(err);
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
    return v.parse(ShedSchema, await this.request("POST", path, { body, onProgress }));
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
