import type { Socket } from "bun";

/**
 * A QMP (QEMU Machine Protocol) client over the VM's control socket: one JSON object per line,
 * a greeting, `qmp_capabilities`, then request/response pairs with async events in between.
 * Used for ACPI power-off, quit and status; each use opens its own short connection.
 */
export class QmpClient {
  private buffer = "";
  private waiters: { resolve: (v: unknown) => void; reject: (e: Error) => void }[] = [];
  private greeted!: Promise<void>;
  private closedError: Error | undefined;
  readonly events: string[] = [];

  private constructor(private socket: Socket<undefined> | undefined) {}

  static async connect(path: string, timeoutMs = 5000): Promise<QmpClient> {
    const client = new QmpClient(undefined);
    let greet!: () => void;
    let fail!: (e: Error) => void;
    client.greeted = new Promise<void>((res, rej) => {
      greet = res;
      fail = rej;
    });
    const timer = setTimeout(() => fail(new Error(`QMP at ${path} did not greet within ${timeoutMs}ms`)), timeoutMs);
    try {
      client.socket = await Bun.connect({
        unix: path,
        socket: {
          data: (_s, chunk) => client.onData(chunk.toString(), greet),
          close: () => client.onClose(new Error("QMP connection closed")),
          error: (_s, err) => client.onClose(err),
        },
      });
      await client.greeted;
      await client.execute("qmp_capabilities");
      return client;
    } catch (err) {
      client.close();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  private greetedOnce = false;

  private onData(text: string, greet: () => void): void {
    this.buffer += text;
    let nl = this.buffer.indexOf("\n");
    while (nl >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      nl = this.buffer.indexOf("\n");
      if (!line) continue;
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(line);
      } catch {
        continue;
      }
      if ("QMP" in msg && !this.greetedOnce) {
        this.greetedOnce = true;
        greet();
      } else if ("event" in msg) {
        this.events.push(String(msg.event));
      } else if ("return" in msg || "error" in msg) {
        const w = this.waiters.shift();
        if (!w) continue;
        if ("error" in msg) {
          const e = msg.error as { class?: string; desc?: string };
          w.reject(new Error(`QMP error ${e.class ?? ""}: ${e.desc ?? "unknown"}`));
        } else w.resolve(msg.return);
      }
    }
  }

  private onClose(err: Error): void {
    this.closedError ??= err;
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  execute<T = unknown>(command: string, args?: Record<string, unknown>, timeoutMs = 10_000): Promise<T> {
    if (this.closedError || !this.socket) return Promise.reject(this.closedError ?? new Error("QMP not connected"));
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`QMP ${command} timed out`)), timeoutMs);
      this.waiters.push({
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.socket!.write(`${JSON.stringify(args ? { execute: command, arguments: args } : { execute: command })}\n`);
    });
  }

  close(): void {
    this.socket?.end();
    this.onClose(new Error("QMP client closed"));
  }
}

/** Runs one QMP command on a fresh connection. */
export async function qmpOnce<T = unknown>(path: string, command: string, args?: Record<string, unknown>): Promise<T> {
  const client = await QmpClient.connect(path);
  try {
    return await client.execute<T>(command, args);
  } finally {
    client.close();
  }
}
