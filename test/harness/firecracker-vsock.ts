import { connect, createServer, type Socket } from "node:net";

/**
 * Firecracker's hybrid vsock, stood in for at its boundary (Firecracker cannot run here): a
 * unix socket that wants exactly `CONNECT <port>\n` as its first line, closes the connection
 * for any other line or a port nobody listens on (as Firecracker does), answers
 * `OK <host port>\n`, and then carries the bytes both ways with backpressure (here to a real
 * compiled shed-agent on another unix socket, the "guest").
 */
export async function fakeFirecrackerVsock(path: string, agentSock: string, guestPort: number) {
  const seen: string[] = [];
  let hostPort = 1073741824;
  const open = new Set<Socket>();
  const server = createServer((client) => {
    open.add(client);
    client.on("close", () => open.delete(client));
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
      seen.push(text);
      if (text !== `CONNECT ${guestPort}`) return void client.destroy();
      const guest = connect(agentSock, () => {
        client.write(`OK ${hostPort++}\n`);
        if (rest.length) guest.write(rest);
        client.pipe(guest);
        guest.pipe(client);
        client.resume();
      });
      open.add(guest);
      guest.on("close", () => {
        open.delete(guest);
        client.destroy();
      });
      guest.on("error", () => client.destroy());
      client.on("close", () => guest.destroy());
    };
    client.on("data", onData);
  });
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(path, resolve));
  return {
    seen,
    stop: () => {
      for (const s of open) s.destroy();
      server.close();
    },
  };
}
