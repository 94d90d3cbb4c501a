import type { AgentConnection } from "../../src/agent/protocol/api.ts";
import { openShedAgent } from "../../src/api/agent-client.ts";
import { ApiClient } from "../../src/api/client.ts";
import { cleanupDocker, ensureTestImage, missing, startServer, type TestServer } from "../harness/index.ts";
import { protocolSuite } from "./protocol-suite.ts";

/**
 * The agent protocol suite over the WebSocket every `shed exec` uses: the compiled
 * shed-server relays each stream to a Docker shed's agent. The suite's scratch dir is
 * mounted into the shed at the same path, so files and unix sockets line up.
 */
const skip = missing({ docker: true });

const ECHO = `import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    c.sendall(b"echo:" + c.recv(65536))
    c.close()
`;

protocolSuite(
  "the WebSocket relay of shed-server (compiled, Docker shed)",
  async (dir) => {
    const image = await ensureTestImage("debian");
    const server: TestServer = await startServer({ config: { docker: { default_image: image } } });
    const created = await server.shed(["create", "relay", "--add-dir", `${dir}:${dir}`]);
    if (created.code !== 0) throw new Error(`create failed: ${created.stderr}`);
    const endpoint = { name: "test", host: "127.0.0.1", httpPort: server.port, sshPort: server.sshPort };
    let helper: AgentConnection | undefined;
    return {
      connect: () => openShedAgent(new ApiClient(endpoint), "relay"),
      // The agent's TCP connections start in the container: the echo server runs there too.
      echoServer: async () => {
        helper ??= await openShedAgent(new ApiClient(endpoint), "relay");
        const p = await helper.exec({ argv: ["python3", "-c", ECHO] });
        const reader = p.stdout.getReader();
        const { value } = await reader.read();
        const port = Number(new TextDecoder().decode(value).trim());
        return { host: "127.0.0.1", port, stop: () => p.signal("SIGKILL") };
      },
      cleanup: async () => {
        helper?.close();
        await server.shed(["delete", "-f", "relay"]);
        await server.stop();
        cleanupDocker();
      },
    };
  },
  skip,
);
