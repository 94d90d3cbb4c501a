import { chmodSync, chownSync, mkdirSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { dirname } from "node:path";
import { ShedError } from "../api/errors.ts";
import { webReadable } from "../api/stream-pump.ts";
import type { ByteDuplex } from "./protocol/api.ts";
import { lookupUser } from "./users.ts";

/**
 * Unix sockets the host listens on inside the guest (SSH agent forwarding: SSH_AUTH_SOCK).
 * The host holds a `listen` stream open for the listener's life and opens an `accept` stream
 * per connection it wants, so every connection is a stream the host opened. Connections that
 * arrive before an accept wait in a queue.
 */
interface Listener {
  server: Server;
  queue: Socket[];
  waiters: { resolve: (s: Socket) => void; reject: (e: Error) => void }[];
}

export class UnixListeners {
  private readonly listeners = new Map<string, Listener>();

  /** Listens at `path` (its directory made 0700, the socket 0600, both owned by `user`). */
  async listen(path: string, user: string): Promise<{ close(): void }> {
    if (this.listeners.has(path)) throw new ShedError("INVALID_REQUEST", `something already listens at ${path}`);
    const owner = lookupUser(user);
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    chownSync(dirname(path), owner.uid, owner.gid);
    rmSync(path, { force: true });
    const l: Listener = { server: createServer(), queue: [], waiters: [] };
    l.server.on("connection", (sock) => {
      const waiter = l.waiters.shift();
      if (waiter) waiter.resolve(sock);
      else l.queue.push(sock);
    });
    await new Promise<void>((resolve, reject) => {
      l.server.once("error", reject);
      l.server.listen(path, () => resolve());
    });
    chmodSync(path, 0o600);
    chownSync(path, owner.uid, owner.gid);
    this.listeners.set(path, l);
    return {
      close: () => {
        this.listeners.delete(path);
        l.server.close();
        for (const s of l.queue) s.destroy();
        for (const w of l.waiters) w.reject(new ShedError("CONNECTION_REFUSED", `the listener at ${path} closed`));
        rmSync(dirname(path), { recursive: true, force: true });
      },
    };
  }

  /** The next connection to the listener at `path`. */
  async accept(path: string): Promise<ByteDuplex> {
    const l = this.listeners.get(path);
    if (!l) throw new ShedError("CONNECTION_REFUSED", `nothing listens at ${path}`);
    const sock = l.queue.shift() ?? (await new Promise<Socket>((resolve, reject) => l.waiters.push({ resolve, reject })));
    return socketDuplex(sock);
  }
}

/** A Node socket as web streams, with backpressure. */
export function socketDuplex(sock: Socket): ByteDuplex {
  const readable = webReadable(sock);
  const writable = new WritableStream<Uint8Array>({
    write: (chunk) => new Promise<void>((resolve, reject) => sock.write(chunk, (err) => (err ? reject(err) : resolve()))),
    close: () => new Promise<void>((resolve) => sock.end(resolve)),
    abort: () => void sock.destroy(),
  });
  return { readable, writable };
}
