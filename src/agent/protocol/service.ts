import * as v from "valibot";
import { ShedError } from "../../api/errors.ts";
import type { Logger } from "../../log/logger.ts";
import { silentLogger } from "../../log/logger.ts";
import type { ByteDuplex, ExecRequest } from "./api.ts";
import { protocolError } from "./errors.ts";
import { Channel, type Frame, FrameType, parseJsonPayload } from "./frame.ts";
import { formatIssues } from "../../api/validation.ts";
import {
  ClientHelloSchema,
  DEFAULT_WINDOW,
  HostControlSchema,
  OpenRequestSchema,
  PROTOCOL_MAX,
  PROTOCOL_MIN,
  type OpenRequest,
} from "./messages.ts";
import { Mux, type MuxStream } from "./mux.ts";
import type { AgentOps } from "./ops.ts";
import type { Transport } from "./transport.ts";

export interface ServeOptions {
  logger?: Logger;
  window?: number;
  /** Serial links: skip garbage to the next HELLO instead of dropping the link. */
  resyncOnGarbage?: boolean;
  /** Counts streams across every connection this process serves (health reports it). */
  activity?: Activity;
}

/** Streams open across all connections, and a way to wait until they are done (drain). */
export class Activity {
  active = 0;
  private idle: (() => void)[] = [];

  begin(): () => void {
    this.active++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      if (--this.active === 0) for (const w of this.idle.splice(0)) w();
    };
  }

  /** Resolves when no stream is open, or after `ms`. */
  drained(ms: number): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.idle.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/**
 * The agent end of the protocol: answers HELLO and serves each stream with `ops`. Used by
 * shed-agent (local ops) and by shed-server's exec relay (ops that forward to a shed).
 * One bad stream never costs the others.
 */
export function serveAgent(transport: Transport, ops: AgentOps, opts: ServeOptions = {}): Mux {
  const logger = opts.logger ?? silentLogger;
  const activity = opts.activity ?? new Activity();
  let greeted = false;
  const mux: Mux = new Mux(transport, {
    role: "server",
    logger,
    window: opts.window,
    resyncOnGarbage: opts.resyncOnGarbage,
    onSessionReset: () => {
      greeted = false;
    },
    onConnectionFrame: (frame) => {
      if (frame.type !== FrameType.HELLO) return;
      greeted = hello(mux, frame, ops);
    },
    onOpen: (stream, request) => {
      if (!greeted) throw protocolError("OPEN before HELLO");
      if (ops.draining) throw new ShedError("AGENT_UNAVAILABLE", "the agent is shutting down");
      const parsed = v.safeParse(OpenRequestSchema, request);
      if (!parsed.success) throw new ShedError("INVALID_REQUEST", formatIssues(parsed.issues));
      // A listener and an accept still waiting are standing registrations, not work: a
      // shutdown's drain does not wait for them (an accepted connection counts once it arrives).
      const done = STANDING_OPS.has(parsed.output.op) ? () => {} : activity.begin();
      if (ops.splice && SPLICED_OPS.has(parsed.output.op)) {
        // The relay passes the stream's frames on as they are: no decode, no re-encode.
        try {
          ops.splice(parsed.output, { mux, id: stream.id }, done);
        } catch (err) {
          done();
          throw err;
        }
        return;
      }
      stream.onClose = done;
      handle(stream, parsed.output, ops, activity).catch((err) => {
        logger.debug("stream failed", { stream: stream.id, op: parsed.output.op, error: String(err) });
        stream.reset(err instanceof Error ? err : new Error(String(err)));
      });
    },
  });
  return mux;
}

const STANDING_OPS = new Set<OpenRequest["op"]>(["listen", "accept"]);

/** The byte streams a relay splices (what is left is small or answered by the relay itself). */
const SPLICED_OPS = new Set<OpenRequest["op"]>(["exec", "put", "get", "tcp"]);

function hello(mux: Mux, frame: Frame, ops: AgentOps): boolean {
  const parsed = v.safeParse(ClientHelloSchema, parseJsonPayload(frame.payload));
  if (!parsed.success) {
    mux.sendError(0, protocolError(`malformed HELLO: ${formatIssues(parsed.issues)}`));
    return false;
  }
  const { min, max, window } = parsed.output;
  const protocol = Math.min(max, PROTOCOL_MAX);
  if (protocol < Math.max(min, PROTOCOL_MIN)) {
    mux.sendError(
      0,
      new ShedError(
        "AGENT_INCOMPATIBLE",
        `the host speaks protocol ${min}..${max}, this agent ${PROTOCOL_MIN}..${PROTOCOL_MAX}: use matching shed versions`,
      ),
    );
    return false;
  }
  mux.peerWindow = window ?? DEFAULT_WINDOW;
  mux.sendJson(FrameType.HELLO, 0, { ...ops.info(), protocol, window: mux.window });
  return true;
}

async function handle(stream: MuxStream, req: OpenRequest, ops: AgentOps, activity: Activity): Promise<void> {
  switch (req.op) {
    case "health": {
      const h = await ops.health();
      return reply(stream, { ...h, activeStreams: activity.active });
    }
    case "shutdown":
      await ops.shutdown(req.drainMs);
      return reply(stream, {});
    case "put":
      await ops.putArchive(req.dir, stream.readable(Channel.MAIN), req.user ? { user: req.user } : {});
      return reply(stream, {});
    case "get": {
      const tar = await ops.getArchive(req.path);
      stream.control({ started: {} });
      await tar.pipeTo(stream.writable(Channel.MAIN));
      stream.close();
      return;
    }
    case "tcp":
      return relayBytes(stream, await ops.connectTcp(req.port, req.host));
    case "accept": {
      const conn = await ops.acceptUnix(req.path);
      stream.onClose = activity.begin();
      return relayBytes(stream, conn);
    }
    case "listen": {
      const listener = await ops.listenUnix(req.path, req.user ? { user: req.user } : {});
      stream.control({ started: {} });
      // The listener lives as long as the host keeps this stream open.
      await new Promise<void>((resolve) => {
        stream.onPeerClose = resolve;
        stream.onError = () => resolve();
      });
      listener.close();
      stream.close();
      return;
    }
    case "exec":
      return exec(stream, req, ops);
  }
}

/** A byte stream (tcp, unix) carried on the stream's main channel, both ways. */
async function relayBytes(stream: MuxStream, conn: ByteDuplex): Promise<void> {
  stream.control({ started: {} });
  stream.onPeerClose = () => conn.writable.abort().catch(() => {});
  await Promise.all([
    stream.readable(Channel.MAIN).pipeTo(conn.writable).catch(() => {}),
    conn.readable.pipeTo(stream.writable(Channel.MAIN)).catch(() => {}),
  ]);
  stream.close();
}

function reply(stream: MuxStream, result: Record<string, unknown>): void {
  stream.control({ result });
  stream.close();
}

async function exec(stream: MuxStream, req: ExecRequest & { op: "exec" }, ops: AgentOps): Promise<void> {
  if ((req.argv === undefined) === (req.command === undefined)) {
    throw new ShedError("INVALID_REQUEST", "exec needs exactly one of argv or command");
  }
  const { op: _op, ...request } = req;
  const proc = await ops.exec(request);
  stream.onControl = (msg) => {
    const parsed = v.safeParse(HostControlSchema, msg);
    if (!parsed.success) return;
    const c = parsed.output;
    if ("resize" in c) proc.resize(c.resize.rows, c.resize.cols);
    else proc.signal(c.signal);
  };
  // The host went away without waiting for the exit: hang up, as a closed terminal does.
  const hangUp = () => proc.signal(req.tty ? "SIGHUP" : "SIGKILL");
  stream.onPeerClose = hangUp;
  stream.onError = hangUp;
  stream.control({ started: {} });
  stream
    .readable(Channel.MAIN)
    .pipeTo(proc.stdin)
    .catch(() => {});
  const [status] = await Promise.all([
    proc.exit,
    proc.stdout.pipeTo(stream.writable(Channel.MAIN)).catch(() => {}),
    proc.stderr.pipeTo(stream.writable(Channel.STDERR)).catch(() => {}),
  ]);
  // Once the command has exited its background children are the user's (`cmd &`, daemons):
  // closing the stream must not hang them up.
  stream.onPeerClose = () => {};
  stream.onError = () => {};
  stream.control({ exit: status });
  stream.close();
}
