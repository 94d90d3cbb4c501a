import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import {
  CallToolRequestSchema,
  type CallToolResult,
  ErrorCode,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";
import * as v from "valibot";
import { toShedError } from "../api/errors.ts";
import { jsonSchema } from "../api/json-schema.ts";
import type { ServerInfo } from "../api/schemas/info.ts";
import { formatIssues } from "../api/validation.ts";
import type { ShedClient } from "../sdk/shed-client.ts";
import { VERSION } from "../version.ts";
import { listResources, RESOURCE_TEMPLATES, readResource } from "./resources.ts";
import type { ToolDef, ToolEnv } from "./tool.ts";
import { SHED_TOOLS } from "./tools/sheds.ts";
import { SHELL_TOOLS } from "./tools/shell.ts";
import { SNAPSHOT_TOOLS } from "./tools/snapshots.ts";

/** Every tool there is; which are offered is decided per server from its features. */
export const ALL_TOOLS: readonly ToolDef[] = [...SHED_TOOLS, ...SNAPSHOT_TOOLS, ...SHELL_TOOLS];

const INSTRUCTIONS =
  "shed runs persistent development environments (sheds: containers or micro-VMs) on a shed-server. " +
  "Typical use: create_shed (with repo to clone a repository into /workspace), exec to run builds and tests in it " +
  "(exitCode, stdout, stderr), read_file/write_file/list_directory for files, delete_shed (confirm: true) when done. " +
  "create_snapshot captures a stopped shed; create_shed with fromSnapshot starts new sheds from it (where a backend has snapshots). " +
  "Errors come back as results with isError and a stable code such as SHED_NOT_FOUND. " +
  "Resources shed://sheds/NAME, .../provisioning and .../console tell why a create warned or a boot failed.";

export interface McpOptions {
  client: ShedClient;
  /** The server runs where the agent is (stdio): copy tools are offered. */
  local: boolean;
}

/** How long the server's info (what decides the tool list) is reused. */
const INFO_TTL_MS = 10_000;

/**
 * An MCP server (the SDK's low-level Server: the tools' JSON schemas are derived from the
 * catalog's valibot schemas, not written again as zod) whose tools call shed-server through
 * a ShedClient. Connect it to a transport: stdio for `shed mcp`, Streamable HTTP for /api/mcp.
 */
export function createMcpServer(opts: McpOptions): Server {
  const server = new Server({ name: "shed", title: "shed", version: VERSION }, { capabilities: { tools: {}, resources: {} }, instructions: INSTRUCTIONS });
  let cached: { at: number; info: Promise<ServerInfo> } | undefined;
  const env = async (): Promise<ToolEnv> => {
    if (!cached || performance.now() - cached.at > INFO_TTL_MS) {
      const info = opts.client.serverInfo();
      cached = { at: performance.now(), info };
      info.catch(() => (cached = undefined));
    }
    // A server that does not answer yet: the tools are listed anyway, each call will say why it fails.
    return { info: await cached.info.catch(() => undefined), local: opts.local };
  };

  server.setRequestHandler(ListToolsRequestSchema, async () => {
    const e = await env();
    return {
      tools: ALL_TOOLS.filter((t) => t.offered?.(e) ?? true).map((t) => ({
        name: t.name,
        title: t.title,
        description: t.description,
        inputSchema: jsonSchema(t.input(e)) as { type: "object" },
        ...(t.annotations ? { annotations: { title: t.title, ...t.annotations } } : {}),
      })),
    };
  });

  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const tool = ALL_TOOLS.find((t) => t.name === request.params.name);
    if (!tool) return failure("NOT_FOUND", `no tool named ${JSON.stringify(request.params.name)}; tools/list has them`);
    try {
      const e = await env();
      if (tool.offered && !tool.offered(e)) return failure("UNSUPPORTED", `${tool.name} is not offered here${tool.notOffered ? `: ${tool.notOffered}` : ""}`);
      const parsed = v.safeParse(tool.input(e), request.params.arguments ?? {});
      if (!parsed.success) return failure("INVALID_REQUEST", `invalid arguments for ${tool.name}: ${formatIssues(parsed.issues)}`);
      const token = extra._meta?.progressToken;
      let step = 0;
      const progress = (message: string) => {
        if (token === undefined) return;
        step += 1;
        extra.sendNotification({ method: "notifications/progress", params: { progressToken: token, progress: step, message } }).catch(() => {});
      };
      const result = (await tool.run({ client: opts.client, signal: extra.signal, progress }, parsed.output)) as Record<string, unknown>;
      return { content: [{ type: "text", text: JSON.stringify(result, null, 1) }], structuredContent: result };
    } catch (err) {
      const e = toShedError(err);
      return failure(e.code, e.message);
    }
  });

  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({ resourceTemplates: RESOURCE_TEMPLATES }));
  server.setRequestHandler(ListResourcesRequestSchema, async () => ({ resources: await listResources(opts.client).catch(mcpError) }));
  server.setRequestHandler(ReadResourceRequestSchema, async (request) => ({ contents: [await readResource(opts.client, request.params.uri).catch(mcpError)] }));
  return server;
}

/** A user mistake or a shed failure: a tool result the model reads, never a protocol error. */
function failure(code: string, message: string): CallToolResult {
  return { isError: true, content: [{ type: "text", text: `${code}: ${message}` }], structuredContent: { code, message } };
}

/** Outside a tool call (listing, resources) a failure can only be a protocol error; it keeps the shed code. */
function mcpError(err: unknown): never {
  const e = toShedError(err);
  throw new McpError(e.code === "NOT_FOUND" || e.code === "SHED_NOT_FOUND" ? ErrorCode.InvalidParams : ErrorCode.InternalError, `${e.code}: ${e.message}`, { code: e.code });
}
