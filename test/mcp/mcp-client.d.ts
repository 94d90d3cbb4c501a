import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { type TestServer } from "../harness/index.ts";
/** The SDK's own Client, connected to `shed mcp` (stdio) or to the server's /api/mcp (Streamable HTTP). */
export interface McpHarness {
    client: Client;
    /** A tool call; the result as the SDK gives it. */
    call(name: string, args?: Record<string, unknown>, opts?: {
        signal?: AbortSignal;
        onprogress?: (p: {
            progress: number;
            message?: string;
        }) => void;
    }): Promise<CallToolResult>;
    /** A tool call that must succeed: its structured result. */
    ok<T = any>(name: string, args?: Record<string, unknown>): Promise<T>;
    close(): Promise<void>;
}
export declare function stdioClient(server: TestServer, env?: Record<string, string>): Promise<McpHarness>;
export declare function httpClient(server: TestServer, token?: string): Promise<McpHarness>;
/** The error text of a failed call (`CODE: message`). */
export declare function errorText(r: CallToolResult): string;
