/**
 * MCP figures beside `shed exec` of the same command, one run:
 *   an `exec` tool call (`true`) over stdio to a running `shed mcp` vs `shed exec <shed> true` (whole process)
 *   the same with `shed mcp` started for the one call (spawn, initialize, call, close)
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { cleanupDocker, ensureTestImage, startServer } from "../test/harness/index.ts";
import { compareTimes, run } from "./lib.ts";

const image = await ensureTestImage("debian");
const server = await startServer({ config: { docker: { default_image: image } } });
const env = { SHED_CONFIG_DIR: server.configDir };
const bin = new URL("../dist/shed", import.meta.url).pathname;

async function connect(): Promise<Client> {
  const client = new Client({ name: "bench", version: "1" });
  await client.connect(new StdioClientTransport({ command: bin, args: ["mcp"], env: { PATH: process.env.PATH ?? "", ...env } }));
  return client;
}
async function execTool(client: Client): Promise<void> {
  const r = await client.callTool({ name: "exec", arguments: { name: "bx", argv: ["true"] } });
  if (r.isError || (r.structuredContent as { exitCode: number }).exitCode !== 0) throw new Error(`exec tool failed: ${JSON.stringify(r.content)}`);
}

try {
  await run([bin, "create", "bx", "--no-sync"], { env });
  const client = await connect();
  await compareTimes({
    name: "exec true: MCP tool call (stdio, warm)",
    peerName: "shed exec",
    runs: Number(process.env.BENCH_RUNS ?? 25),
    warmup: 3,
    ours: () => execTool(client),
    peer: () => run([bin, "exec", "bx", "true"], { env }),
    target: "<= 1.2x",
  });
  await client.close();
  await compareTimes({
    name: "exec true: shed mcp started for one call",
    peerName: "shed exec",
    runs: Number(process.env.BENCH_COLD_RUNS ?? 10),
    warmup: 1,
    ours: async () => {
      const c = await connect();
      await execTool(c);
      await c.close();
    },
    peer: () => run([bin, "exec", "bx", "true"], { env }),
  });
} finally {
  await server.stop();
  cleanupDocker();
}
