import { defineCommand } from "../cli/command.ts";
import { cli } from "../cli/context.ts";

/**
 * `shed mcp`: shed's tools for an AI agent, as an MCP server on stdin/stdout (the agent
 * starts it: `claude mcp add shed -- shed mcp`). stdout carries only the protocol; the
 * server runs until the agent closes stdin.
 */
export default defineCommand({
  meta: {
    name: "mcp",
    description: "Serve shed's tools to an AI agent over MCP on stdio",
    details:
      "An MCP server (Model Context Protocol) on stdin/stdout for the server chosen with -s/--server (else the default one): " +
      "tools to list, create, start, stop and delete sheds, exec in them, read, write and list files, copy between this machine and a shed, " +
      "list or kill tmux sessions, and snapshot sheds (where a backend has snapshots); each shed's info, provisioning logs and console as resources. " +
      "shed-server serves the same tools at /api/mcp (Streamable HTTP), without the copy tools. Runs until stdin closes.",
    examples: ["shed mcp", "shed mcp --server my-server", "claude mcp add shed -- shed mcp"],
  },
  args: {},
  async run() {
    // Loaded here: the SDK is needed by this command only.
    const [{ StdioServerTransport }, { createMcpServer }, { ShedClient }] = await Promise.all([
      import("@modelcontextprotocol/sdk/server/stdio.js"),
      import("../mcp/server.ts"),
      import("../sdk/shed-client.ts"),
    ]);
    const client = new ShedClient(cli().client());
    const server = createMcpServer({ client, local: true });
    const closed = new Promise<void>((resolve) => {
      server.onclose = resolve;
      // The SDK's stdio transport does not notice the end of stdin: that is the agent going.
      process.stdin.once("end", () => void server.close());
      process.stdin.once("close", () => void server.close());
    });
    await server.connect(new StdioServerTransport());
    await closed;
    client.close();
  },
});
