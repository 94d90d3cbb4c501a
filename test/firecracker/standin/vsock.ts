import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * The host side of Firecracker's hybrid vsock, on `uds_path`: a client writes
 * `CONNECT <port>\n`; when a guest process listens on that vsock port the answer is
 * `OK <host port>\n` and the bytes flow, otherwise the connection is closed (as Firecracker
 * does). No AF_VSOCK anywhere: the guest's "vsock port" is a virtio-serial port of the
 * stand-in's QEMU, and "the guest listens" is the guest agent having opened that port
 * (QEMU's VSERPORT_CHANGE; while no host is connected the agent reopens it every 200 ms, as
 * a read there ends at once, and QEMU throttles the events to one a second, so the first
 * open is what counts). A serial port is one stream, so one connection at a time: a second
 * CONNECT while one is open is closed (stricter than Firecracker, which would take it), and
 * so is one within a second of the last one's end, while the guest's end of the old
 * session winds down (the agent sees the hang-up and reopens).
 */
export class HybridVsock {
  private server: Server | undefined;
  private guestOpened = false;
  private quietUntil = 0;
  private active: Socket | undefined;
  private hostPort = 1073741824;
  private readonly open = new Set<Socket>();
  private lastSaid = "";

  constructor(
    private readonly udsPath: string,
    /** The guest port that the virtio-serial port stands for (the guest agent's). */
    private readonly guestPort: number,
    private readonly log: (line: string) => void,
  ) {}

  /** Binds uds_path (Firecracker does at PUT /vsock; an existing path is AddrInUse). */
  listen(): Promise<void> {
    const server = createServer((client) => this.accept(client));
    this.server = server;
    return new Promise((resolve, reject) => server.once("error", reject).listen(this.udsPath, () => resolve()));
  }

  /** Where the bytes go once the VM runs: the chardev socket of its virtio-serial port. */
  private chardev: string | undefined;

  attach(chardevSocket: string): void {
    this.chardev = chardevSocket;
  }

  /** From QMP VSERPORT_CHANGE: the guest opened or closed the port. */
  guestPortChanged(open: boolean): void {
    if (open && !this.guestOpened) this.log("the guest opened its vsock port: it listens");
    this.guestOpened ||= open;
  }

  private accept(client: Socket): void {
    this.open.add(client);
    client.on("close", () => this.open.delete(client));
    client.on("error", () => {});
    let line = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      line = Buffer.concat([line, chunk]);
      const nl = line.indexOf(0x0a);
      if (nl < 0) {
        if (line.length > 64) client.destroy();
        return;
      }
      client.off("data", onData);
      client.pause();
      const text = line.subarray(0, nl).toString();
      const rest = line.subarray(nl + 1);
      const m = /^CONNECT (\d+)$/.exec(text);
      const why = !m
        ? "not a CONNECT line"
        : Number(m[1]) !== this.guestPort
          ? "no guest listener on that port"
          : !this.chardev || !this.guestOpened
            ? "the guest does not listen (yet)"
            : this.active
              ? "one connection at a time on the stand-in's serial port"
              : Date.now() < this.quietUntil
                ? "the guest's end of the last connection is winding down"
                : undefined;
      // A client polls until the guest listens: say each answer once, not each refusal.
      const said = `vsock ${JSON.stringify(text)}: ${why ?? "accepted"}`;
      if (said !== this.lastSaid || !why) this.log(said);
      this.lastSaid = said;
      if (why) return void client.destroy();
      this.bridge(client, rest);
    };
    client.on("data", onData);
  }

  private bridge(client: Socket, rest: Buffer): void {
    this.active = client;
    const guest = connect(this.chardev!, () => {
      client.write(`OK ${this.hostPort++}\n`);
      if (rest.length) guest.write(rest);
      client.pipe(guest);
      guest.pipe(client);
      client.resume();
    });
    this.open.add(guest);
    const end = () => {
      if (this.active === client) {
        this.active = undefined;
        this.quietUntil = Date.now() + 1000;
      }
      client.destroy();
      guest.destroy();
    };
    guest.on("close", () => {
      this.open.delete(guest);
      end();
    });
    guest.on("error", end);
    client.on("close", end);
  }

  close(): void {
    for (const s of this.open) s.destroy();
    this.server?.close();
  }
}
