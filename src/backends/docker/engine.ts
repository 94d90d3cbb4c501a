import { type ErrorCode, ShedError } from "../../api/errors.ts";

/** The Docker Engine API version we speak (Debian's dockerd 20.10 is 1.41). */
export const ENGINE_API = "v1.41";

/** An engine answer that is not 2xx, with the shed code its status means. */
export class EngineError extends ShedError {
  constructor(
    readonly httpStatus: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(engineCode(httpStatus), message, options);
  }
}

/**
 * 4xx: what was asked is wrong (400, and a redirect: the engine cleans a path with `..` and
 * redirects, which is never followed), missing (404), in the way (409) or not allowed; 5xx:
 * the engine failed.
 */
function engineCode(status: number): ErrorCode {
  if (status === 404) return "NOT_FOUND";
  if (status === 409) return "SHED_BUSY";
  if (status === 401 || status === 403) return "FORBIDDEN";
  if (status >= 300 && status < 500) return "INVALID_REQUEST";
  return "BACKEND_UNAVAILABLE";
}

export interface EngineContainer {
  Id: string;
  Names: string[];
  Labels: Record<string, string>;
  State: string;
}

export interface EngineContainerInspect {
  Id: string;
  Name: string;
  State: { Running: boolean; Restarting?: boolean; Status: string; ExitCode: number; Pid: number };
  RestartCount?: number;
  Config: { Labels: Record<string, string>; Image: string };
  Image: string;
}

/**
 * A small client for the Engine API over its unix socket (no docker CLI at run time).
 * Every call is one HTTP request; errors carry the engine's message. Redirects are never
 * followed: the next hop would leave the socket for http://docker/ over TCP. Path segments
 * are percent-encoded by the callers (`seg`).
 */
export class DockerEngine {
  constructor(readonly socketPath: string) {}

  async request(
    method: string,
    path: string,
    opts: {
      body?: unknown;
      query?: Record<string, string>;
      raw?: RequestInit["body"];
      headers?: Record<string, string>;
      /** A bound of the caller's own (instead of Bun's 5-minute idle limit, which then is off). */
      timeoutMs?: number;
      /** A stream that may rightly be quiet for long (logs -f): no idle limit at all. */
      stream?: boolean;
    } = {},
  ): Promise<Response> {
    const url = new URL(`http://docker/${ENGINE_API}${path}`);
    for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v);
    const headers: Record<string, string> = { ...opts.headers };
    let body: RequestInit["body"] | undefined = opts.raw;
    if (opts.body !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(opts.body);
    }
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        body,
        unix: this.socketPath,
        redirect: "manual",
        signal: opts.timeoutMs ? AbortSignal.timeout(opts.timeoutMs) : undefined,
        ...(opts.timeoutMs || opts.stream ? { timeout: false } : {}),
      } as RequestInit);
    } catch (err) {
      throw new ShedError(
        "BACKEND_UNAVAILABLE",
        `the Docker engine is not reachable at ${this.socketPath} (${(err as Error).message}); is dockerd running?`,
        { cause: err },
      );
    }
    return res;
  }

  /** Like request, but throws on a non-2xx answer and parses JSON. */
  async call<T = unknown>(method: string, path: string, opts: Parameters<DockerEngine["request"]>[2] = {}): Promise<T> {
    const res = await this.request(method, path, opts);
    // 304: already in the asked-for state (stop of a stopped container): not an error.
    if (res.status >= 300 && res.status < 400 && res.status !== 304) {
      await res.body?.cancel();
      throw new EngineError(res.status, `Docker engine: ${method} ${path}: the engine does not take this name (it answered a redirect, HTTP ${res.status})`);
    }
    if (!res.ok && res.status !== 304) {
      const text = await res.text();
      let message = text;
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {}
      throw new EngineError(res.status, `Docker engine: ${method} ${path}: ${message.trim()} (HTTP ${res.status})`);
    }
    if (res.status === 204 || res.status === 304) return undefined as T;
    const type = res.headers.get("content-type") ?? "";
    return (type.includes("json") ? res.json() : res.text()) as Promise<T>;
  }

  async ping(): Promise<void> {
    await this.call("GET", "/_ping", { timeoutMs: 3000 });
  }

  version(): Promise<{ Version: string; ApiVersion: string; Os: string; Arch: string }> {
    return this.call("GET", "/version", { timeoutMs: 3000 });
  }

  async imageExists(ref: string): Promise<boolean> {
    const res = await this.request("GET", `/images/${seg(ref)}/json`);
    await res.body?.cancel();
    return res.ok;
  }

  listContainers(labels: Record<string, string>): Promise<EngineContainer[]> {
    const label = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
    return this.call("GET", "/containers/json", {
      query: { all: "true", filters: JSON.stringify({ label }) },
    });
  }

  async inspectContainer(id: string): Promise<EngineContainerInspect | undefined> {
    try {
      return await this.call<EngineContainerInspect>("GET", `/containers/${seg(id)}/json`);
    } catch (err) {
      if (err instanceof EngineError && err.httpStatus === 404) return undefined;
      throw err;
    }
  }

  async createContainer(name: string, spec: unknown): Promise<string> {
    const res = await this.call<{ Id: string }>("POST", "/containers/create", {
      query: { name },
      body: spec,
    });
    return res.Id;
  }

  async startContainer(id: string): Promise<void> {
    await this.call("POST", `/containers/${seg(id)}/start`);
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    try {
      await this.call("POST", `/containers/${seg(id)}/stop`, {
        query: { t: String(Math.round(timeoutSeconds)) },
      });
    } catch (err) {
      if (err instanceof EngineError && err.httpStatus === 404) return;
      throw err;
    }
  }

  async removeContainer(id: string): Promise<void> {
    try {
      await this.call("DELETE", `/containers/${seg(id)}`, { query: { force: "true", v: "true" } });
    } catch (err) {
      if (err instanceof EngineError && err.httpStatus === 404) return;
      throw err;
    }
  }

  /** The last `tail` lines the container printed; with `since`, only lines from then on. */
  async containerLogs(id: string, tail = 20, since?: Date): Promise<string> {
    const res = await this.request("GET", `/containers/${seg(id)}/logs`, {
      query: { stdout: "true", stderr: "true", tail: String(tail), ...(since ? { since: String(Math.floor(since.getTime() / 1000)) } : {}) },
    });
    if (!res.ok) return "";
    return demuxLogs(new Uint8Array(await res.arrayBuffer()));
  }

  /** The container's last `tail` lines, then what it prints, demultiplexed, until the stream is cancelled. */
  async followContainerLogs(id: string, tail: number): Promise<ReadableStream<Uint8Array>> {
    const res = await this.request("GET", `/containers/${seg(id)}/logs`, {
      query: { stdout: "true", stderr: "true", follow: "true", tail: String(tail) },
      stream: true,
    });
    if (!res.ok || !res.body) throw new EngineError(res.status, `Docker engine: the logs of ${id} cannot be followed`);
    return res.body.pipeThrough(demuxTransform());
  }

  async createVolume(name: string, labels: Record<string, string>): Promise<void> {
    await this.call("POST", "/volumes/create", { body: { Name: name, Labels: labels } });
  }

  async removeVolume(name: string): Promise<void> {
    try {
      await this.call("DELETE", `/volumes/${seg(name)}`, { query: { force: "true" } });
    } catch (err) {
      if (err instanceof EngineError && err.httpStatus === 404) return;
      throw err;
    }
  }
}

/**
 * One path segment, percent-encoded. `.` and `..` are refused: the URL parser would resolve
 * them (even encoded) and the request would go to another endpoint.
 */
export function seg(value: string): string {
  if (value === "." || value === "..") throw new EngineError(400, `Docker engine: "${value}" is not a name`);
  return encodeURIComponent(value);
}

/** The multiplexed log stream as it arrives: frames may straddle chunks. */
function demuxTransform(): TransformStream<Uint8Array, Uint8Array> {
  let pending = new Uint8Array(0);
  return new TransformStream({
    transform(chunk, controller) {
      const buf = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      let i = 0;
      while (i + 8 <= buf.length) {
        const len = new DataView(buf.buffer, buf.byteOffset + i + 4, 4).getUint32(0);
        if (i + 8 + len > buf.length) break;
        if (len > 0) controller.enqueue(buf.slice(i + 8, i + 8 + len));
        i += 8 + len;
      }
      pending = buf.slice(i);
    },
  });
}

/** Container logs come multiplexed (8-byte headers per chunk) when there is no TTY. */
function demuxLogs(buf: Uint8Array): string {
  const out: Uint8Array[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const len = new DataView(buf.buffer, buf.byteOffset + i + 4, 4).getUint32(0);
    out.push(buf.subarray(i + 8, i + 8 + len));
    i += 8 + len;
  }
  return Buffer.concat(out).toString("utf8");
}
