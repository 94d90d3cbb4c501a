import { ShedError } from "../../api/errors.ts";
import type { FirecrackerBodies, InstanceInfo } from "./api-types.gen.ts";

/** A request as it went to Firecracker (kept on its error and in debug logs). */
export interface FirecrackerRequest {
  method: string;
  path: string;
  body?: unknown;
}

/** Firecracker refused a request: its status, its `fault_message` and the request itself. */
export class FirecrackerApiError extends ShedError {
  constructor(
    readonly request: FirecrackerRequest,
    readonly httpStatus: number,
    readonly faultMessage: string,
    socket: string,
  ) {
    super("BACKEND_UNAVAILABLE", `Firecracker refused ${request.method} ${request.path} (${httpStatus}): ${faultMessage} (API socket ${socket})`);
  }
}

/** Operations by `METHOD /path` with their body type from the contract. */
type Op = keyof FirecrackerBodies;
/** The path's parameters: `{drive_id}` -> { drive_id: string }. */
type Params<P extends string> = P extends `${string}{${infer K}}${infer Rest}` ? { [k in K]: string } & Params<Rest> : unknown;

/**
 * Firecracker's API over its unix socket, one request at a time, bodies typed from the
 * contract (api-types.gen.ts). Every answer but 2xx becomes a FirecrackerApiError.
 */
export class FirecrackerClient {
  constructor(
    readonly socket: string,
    private readonly onRequest: (r: FirecrackerRequest & { status: number }) => void = () => {},
  ) {}

  async call<K extends Op>(op: K, body: FirecrackerBodies[K], ...params: K extends `${string}{${string}` ? [Params<K>] : []): Promise<void> {
    const [method, template] = op.split(" ") as [string, string];
    const values = (params[0] ?? {}) as Record<string, string>;
    const path = template.replace(/\{(\w+)\}/g, (_, k: string) => encodeURIComponent(values[k]!));
    await this.send({ method, path, body });
  }

  describe(): Promise<InstanceInfo> {
    return this.send({ method: "GET", path: "/" }) as Promise<InstanceInfo>;
  }

  private async send(request: FirecrackerRequest): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(`http://localhost${request.path}`, {
        unix: this.socket,
        method: request.method,
        headers: { Accept: "application/json", ...(request.body === undefined ? {} : { "Content-Type": "application/json" }) },
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
      } as RequestInit);
    } catch (err) {
      throw new ShedError("BACKEND_UNAVAILABLE", `Firecracker's API (${this.socket}) did not answer ${request.method} ${request.path}: ${(err as Error).message}`, { cause: err });
    }
    const text = await res.text();
    this.onRequest({ ...request, status: res.status });
    if (res.ok) return text ? JSON.parse(text) : undefined;
    let fault = text;
    try {
      fault = (JSON.parse(text) as { fault_message?: string }).fault_message ?? text;
    } catch {}
    throw new FirecrackerApiError(request, res.status, fault, this.socket);
  }
}
