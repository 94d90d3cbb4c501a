import * as v from "valibot";
import type { ErrorCode } from "./errors.ts";
import { IMAGE_ENDPOINTS } from "./image-endpoints.ts";
import { ServerInfoSchema, SshHostKeySchema } from "./schemas/info.ts";
import { LogsQuerySchema, ShedLogsSchema } from "./schemas/logs.ts";
import { SessionListSchema, SessionNameSchema } from "./schemas/session.ts";
import { CreateShedRequestSchema, ShedListSchema, ShedNameSchema, ShedSchema, StopShedRequestSchema } from "./schemas/shed.ts";

/**
 * The API catalog: one entry per endpoint, from which /api/openapi.json is generated.
 * Routes and this list are kept in step by the openapi test.
 */
export interface Endpoint {
  method: "get" | "post" | "put" | "delete" | "head";
  path: string;
  summary: string;
  /**
   * Schema of each `{param}` in the path. The server checks them before any handler or file
   * access (400 INVALID_NAME); a test keeps every path's params declared.
   */
  params?: Record<string, v.GenericSchema<unknown, string>>;
  /** Schema of the query string (a key given twice is an array); 400 INVALID_REQUEST when it fails. */
  query?: v.ObjectSchema<v.ObjectEntries, undefined>;
  request?: v.GenericSchema;
  response?: v.GenericSchema;
  /** Answers with SSE progress events when asked for text/event-stream. */
  progress?: boolean;
  /** Raw body (e.g. a tar archive) instead of JSON. */
  binary?: "request" | "response";
  /** WebSocket upgrade. */
  websocket?: string;
  errors?: ErrorCode[];
  public?: boolean;
}

/** Path parameters, declared once. */
export const SHED_PARAMS = { name: ShedNameSchema };
const SESSION_PARAMS = { name: ShedNameSchema, session: SessionNameSchema };
const Flag = v.optional(v.picklist(["true", "false"]));

export const ENDPOINTS: Endpoint[] = [
  { method: "get", path: "/api/info", summary: "Server name, version, backends and features", response: ServerInfoSchema, public: true },
  {
    method: "get",
    path: "/api/ssh-host-key",
    summary: "The SSH door's host key (`ssh-ed25519 AAAA...`), for clients to pin",
    response: SshHostKeySchema,
    errors: ["UNSUPPORTED"],
    public: true,
  },
  { method: "get", path: "/api/sheds", summary: "List sheds", response: ShedListSchema },
  {
    method: "post",
    path: "/api/sheds",
    summary: "Create a shed; returns when its agent answers",
    request: CreateShedRequestSchema,
    response: ShedSchema,
    progress: true,
    errors: ["INVALID_NAME", "INVALID_REQUEST", "SHED_EXISTS", "IMAGE_NOT_FOUND", "BACKEND_UNAVAILABLE"],
  },
  { method: "get", path: "/api/sheds/{name}", params: SHED_PARAMS, summary: "One shed", response: ShedSchema, errors: ["INVALID_NAME", "SHED_NOT_FOUND"] },
  {
    method: "delete",
    path: "/api/sheds/{name}",
    params: SHED_PARAMS,
    query: v.object({ force: Flag }),
    summary: "Delete a shed (query force=true to delete a running one)",
    progress: true,
    errors: ["SHED_NOT_FOUND", "SHED_NOT_STOPPED"],
  },
  { method: "post", path: "/api/sheds/{name}/start", params: SHED_PARAMS, summary: "Start a stopped shed", response: ShedSchema, progress: true, errors: ["SHED_NOT_FOUND", "SHED_BUSY"] },
  { method: "post", path: "/api/sheds/{name}/stop", params: SHED_PARAMS, summary: "Stop a running shed", request: StopShedRequestSchema, response: ShedSchema, errors: ["SHED_NOT_FOUND", "SHED_NOT_RUNNING"] },
  { method: "post", path: "/api/sheds/{name}/reset", params: SHED_PARAMS, summary: "Wipe a stopped shed back to its image", response: ShedSchema, progress: true, errors: ["SHED_NOT_FOUND", "SHED_NOT_STOPPED"] },
  {
    method: "get",
    path: "/api/sheds/{name}/agent",
    params: SHED_PARAMS,
    query: v.object({ start: Flag }),
    summary: "The shed's agent (exec, files, tcp); query start=true starts a stopped shed first",
    websocket: "binary frames of the agent protocol (src/agent/protocol/frame.ts); the server relays each stream to the shed's agent",
    errors: ["SHED_NOT_FOUND", "SHED_NOT_RUNNING", "AGENT_UNAVAILABLE"],
  },
  {
    method: "get",
    path: "/api/sheds/{name}/logs",
    params: SHED_PARAMS,
    query: LogsQuerySchema,
    summary: "What the shed's VM console or container printed (query tail=BYTES, default 256 KiB)",
    response: ShedLogsSchema,
    errors: ["SHED_NOT_FOUND", "UNSUPPORTED"],
  },
  {
    method: "get",
    path: "/api/sheds/{name}/sessions",
    params: SHED_PARAMS,
    summary: "The shed's tmux sessions (name, windows, attached, created, command)",
    response: SessionListSchema,
    errors: ["SHED_NOT_FOUND", "SHED_NOT_RUNNING", "AGENT_UNAVAILABLE"],
  },
  {
    method: "delete",
    path: "/api/sheds/{name}/sessions/{session}",
    params: SESSION_PARAMS,
    summary: "Kill a tmux session in the shed",
    errors: ["SHED_NOT_FOUND", "SESSION_NOT_FOUND"],
  },
  ...IMAGE_ENDPOINTS,
  { method: "get", path: "/api/openapi.json", summary: "This document", public: true },
];
