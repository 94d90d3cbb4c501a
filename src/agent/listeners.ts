import { ShedError } from "../api/errors.ts";
import type { Logger } from "../log/logger.ts";
import type { AgentOps } from "./protocol/ops.ts";
import { type Activity, serveAgent } from "./protocol/service.ts";
import type { Transport } from "./protocol/transport.ts";
import { stdioTransport } from "./protocol/transports/node-stream.ts";
import { SerialTransport } from "./protocol/transports/serial.ts";
import { type Listener, listenUnix } from "./protocol/transports/socket.ts";
import { listenVsock } from "./protocol/transports/vsock.ts";

export type ListenSpec =
  | { kind: "unix"; path: string }
  | { kind: "vsock"; port: number }
  | { kind: "stdio" }
  | { kind: "serial"; path: string };

/** `unix:PATH`, `vsock:PORT`, `stdio`, `serial:DEVICE`. */
export function parseListen(spec: string): ListenSpec {
  if (spec === "stdio") return { kind: "stdio" };
  const [kind, ...rest] = spec.split(":");
  const arg = rest.join(":");
  if (kind === "unix" && arg) return { kind, path: arg };
  if (kind === "serial" && arg) return { kind, path: arg };
  if (kind === "vsock" && /^\d+$/.test(arg) && Number(arg) > 0 && Number(arg) < 2 ** 32) return { kind, port: Number(arg) };
  throw new ShedError("USAGE", `--listen ${spec}: expected unix:PATH, vsock:PORT, stdio or serial:DEVICE`);
}

export interface ListenContext {
  ops: AgentOps;
  activity: Activity;
  logger: Logger;
}

/** Starts one listener; every connection it yields is served with the same ops. */
export async function startListener(spec: ListenSpec, ctx: ListenContext): Promise<Listener> {
  const serve = (t: Transport, resync = false) => {
    ctx.logger.debug("connection", { transport: t.description });
    return serveAgent(t, ctx.ops, { logger: ctx.logger, activity: ctx.activity, resyncOnGarbage: resync });
  };
  switch (spec.kind) {
    case "unix":
      return listenUnix(spec.path, (t) => serve(t));
    case "vsock":
      return listenVsock(spec.port, (t) => serve(t));
    case "stdio": {
      const mux = serve(stdioTransport());
      // stdin closed: the host is gone and nobody else can reach us.
      mux.closed.then(() => process.exit(0));
      return { description: "stdio", stop: () => mux.close() };
    }
    case "serial":
      return serveSerial(spec.path, serve, ctx.logger);
  }
}

/**
 * A serial port is one byte stream for the agent's whole life: host sessions come and go
 * on it (resync to the next HELLO), and when the host side closes we reopen and wait.
 */
function serveSerial(path: string, serve: (t: Transport, resync: boolean) => { closed: Promise<unknown> }, logger: Logger): Listener {
  let stopped = false;
  let current: { close(): void } | undefined;
  const loop = async () => {
    while (!stopped) {
      const transport = new SerialTransport(path);
      current = transport;
      await serve(transport, true).closed;
      if (!stopped) {
        logger.debug("serial link closed, reopening", { path });
        await Bun.sleep(200);
      }
    }
  };
  void loop();
  return {
    description: `serial:${path}`,
    stop: () => {
      stopped = true;
      current?.close();
    },
  };
}
