import * as v from "valibot";
import { ShedError } from "../../api/errors.ts";
import type { Logger } from "../../log/logger.ts";
import type {
  AgentConnection,
  AgentHealth,
  AgentInfo,
  ByteDuplex,
  ExecProcess,
  ExecRequest,
  ExitStatus,
} from "./api.ts";
import { connectionLost, errorFromPayload, protocolError } from "./errors.ts";
import { Channel, type Frame, FrameType, parseJsonPayload } from "./frame.ts";
import {
  DEFAULT_WINDOW,
  ErrorPayloadSchema,
  PROTOCOL_MAX,
  PROTOCOL_MIN,
  ServerHelloSchema,
} from "./messages.ts";
import { Mux, type MuxStream } from "./mux.ts";
import { type SpliceSide, splice } from "./splice.ts";
import type { Transport } from "./transport.ts";

export interface ConnectOptions {
  /** Who we are, for the agent's log ("shed-server 0.1.0"). */
  client?: string;
  logger?: Logger;
  /** Give up on the hello after this long (a peer that is not an agent). */
  helloTimeoutMs?: number;
  window?: number;
  /** Serial links: skip stale bytes and frames until the agent's HELLO. */
  serial?: boolean;
}

/**
 * The host end of the protocol: says hello over `transport` and returns the connection
 * every host component (backends, exec route, SSH door, provisioning) talks to.
 */
export async function connectAgent(transport: Transport, opts: ConnectOptions = {}): Promise<AgentConnection> {
  let settle!: { resolve: (f: Frame) => void; reject: (e: Error) => void };
  const hello = new Promise<Frame>((resolve, reject) => (settle = { resolve, reject }));
  const mux = new Mux(transport, {
    role: "client",
    logger: opts.logger,
    window: opts.window,
    resyncOnGarbage: opts.serial,
    onConnectionFrame: (frame) => settle.resolve(frame),
  });
  mux.closed.then((reason) => settle.reject(connectionLost(`${transport.description} closed during hello`, reason)));
  const sayHello = () =>
    mux.sendJson(FrameType.HELLO, 0, { min: PROTOCOL_MIN, max: PROTOCOL_MAX, client: opts.client, window: mux.window });
  sayHello();
  // On a serial line the agent may open its end after our hello went by (the guest is still
  // booting), so say it again until answered; the agent answers each, we take the first.
  const again = opts.serial ? setInterval(sayHello, 250) : undefined;
  const timeoutMs = opts.helloTimeoutMs ?? 10_000;
  const timer = setTimeout(
    () => settle.reject(protocolError(`no hello from ${transport.description} within ${timeoutMs} ms`)),
    timeoutMs,
  );
  try {
    const frame = await hello;
    const body = parseJsonPayload(frame.payload);
    if (frame.type === FrameType.ERROR) {
      const parsed = v.safeParse(ErrorPayloadSchema, body);
      throw parsed.success ? errorFromPayload(parsed.output) : protocolError("malformed ERROR during hello");
    }
    const parsed = v.safeParse(ServerHelloSchema, body);
    if (!parsed.success) throw protocolError(`malformed hello from ${transport.description}`);
    const h = parsed.output;
    if (h.protocol < PROTOCOL_MIN || h.protocol > PROTOCOL_MAX) {
      throw new ShedError(
        "AGENT_INCOMPATIBLE",
        `the agent speaks protocol ${h.protocol}, this build ${PROTOCOL_MIN}..${PROTOCOL_MAX}: update shed-agent in the image`,
      );
    }
    mux.peerWindow = h.window ?? DEFAULT_WINDOW;
    return new AgentClient(mux, {
      version: h.version,
      protocol: h.protocol,
      hostname: h.hostname,
      uptimeMs: h.uptimeMs,
      pid: h.pid,
    });
  } catch (err) {
    mux.close();
    throw err;
  } finally {
    clearTimeout(timer);
    clearInterval(again);
  }
}

class AgentClient implements AgentConnection {
  readonly closed: Promise<Error | undefined>;

  constructor(
    private readonly mux: Mux,
    readonly info: AgentInfo,
  ) {
    this.closed = mux.closed;
  }

  async health(): Promise<AgentHealth> {
    const result = await this.request({ op: "health" });
    return result as unknown as AgentHealth;
  }

  async exec(req: ExecRequest): Promise<ExecProcess> {
    const stream = this.mux.open({ op: "exec", ...req });
    let exitWith!: (s: ExitStatus) => void;
    let failWith!: (e: Error) => void;
    const exit = new Promise<ExitStatus>((resolve, reject) => {
      exitWith = resolve;
      failWith = reject;
    });
    // Nobody may be awaiting exit yet (a failed start): keep the rejection from being unhandled.
    exit.catch(() => {});
    const started = new Promise<void>((resolve, reject) => {
      stream.onControl = (msg) => {
        if (msg.started) resolve();
        else if (msg.exit) {
          const e = msg.exit as ExitStatus;
          exitWith({ code: e.code, ...(e.signal ? { signal: e.signal } : {}) });
          stream.close();
        }
      };
      stream.onError = (err) => {
        reject(err);
        failWith(err);
      };
      stream.onClose = () => failWith(connectionLost("the exec stream ended without an exit status"));
    });
    const stdout = stream.readable(Channel.MAIN);
    const stderr = stream.readable(Channel.STDERR);
    await started;
    return {
      stdin: stream.writable(Channel.MAIN),
      stdout,
      stderr,
      resize: (rows, cols) => stream.control({ resize: { rows, cols } }),
      signal: (name) => stream.control({ signal: name }),
      exit,
    };
  }

  async putArchive(dir: string, tar: ReadableStream<Uint8Array>, opts: { user?: string } = {}): Promise<void> {
    const stream = this.mux.open({ op: "put", dir, ...(opts.user ? { user: opts.user } : {}) });
    const done = this.result(stream);
    await Promise.race([tar.pipeTo(stream.writable(Channel.MAIN)), done]);
    await done;
  }

  async getArchive(path: string): Promise<ReadableStream<Uint8Array>> {
    const stream = this.mux.open({ op: "get", path });
    await this.started(stream);
    return stream.readable(Channel.MAIN);
  }

  async connectTcp(port: number, host?: string): Promise<ByteDuplex> {
    const stream = this.mux.open({ op: "tcp", port, ...(host ? { host } : {}) });
    await this.started(stream);
    return { readable: stream.readable(Channel.MAIN), writable: stream.writable(Channel.MAIN) };
  }

  async listenUnix(path: string, opts: { user?: string } = {}): Promise<{ close(): void }> {
    const stream = this.mux.open({ op: "listen", path, ...(opts.user ? { user: opts.user } : {}) });
    await this.started(stream);
    return { close: () => stream.close() };
  }

  async acceptUnix(path: string): Promise<ByteDuplex> {
    const stream = this.mux.open({ op: "accept", path });
    await this.started(stream);
    return { readable: stream.readable(Channel.MAIN), writable: stream.writable(Channel.MAIN) };
  }

  async shutdown(drainMs: number): Promise<void> {
    await this.request({ op: "shutdown", drainMs });
  }

  splice(request: Record<string, unknown>, host: SpliceSide, onDone: () => void): void {
    splice(host, this.mux, request, onDone);
  }

  close(): void {
    this.mux.close();
  }

  private async request(req: Record<string, unknown>): Promise<Record<string, unknown>> {
    return this.result(this.mux.open(req));
  }

  /** Resolves with the stream's `result` control message (the agent then closes it). */
  private result(stream: MuxStream): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      stream.onControl = (msg) => {
        if (msg.result) {
          resolve(msg.result as Record<string, unknown>);
          stream.close();
        }
      };
      stream.onError = reject;
      stream.onClose = () => reject(connectionLost(`stream ${stream.id} ended without a result`));
    });
  }

  /** Resolves when the agent accepted a data stream (get, tcp), rejects with its error. */
  private started(stream: MuxStream): Promise<void> {
    return new Promise((resolve, reject) => {
      stream.onControl = (msg) => {
        if (msg.started) resolve();
      };
      stream.onError = reject;
      // Data streams end with CLOSE after their EOF: our side closes too.
      stream.onPeerClose = () => stream.close();
      stream.onClose = () => reject(connectionLost(`stream ${stream.id} ended before it started`));
    });
  }
}
