import * as v from "valibot";
import { defineEndpoints } from "../endpoint.ts";
import { FollowLogsQuerySchema, LogsQuerySchema, ShedLogsSchema } from "../schemas/logs.ts";
import { SessionListSchema, SessionNameSchema } from "../schemas/session.ts";
import { CreateShedRequestSchema, ShedListSchema, ShedNameSchema, ShedSchema, StopShedRequestSchema } from "../schemas/shed.ts";

/** Path parameters, declared once. */
const SHED_PARAMS = { name: ShedNameSchema };
const SESSION_PARAMS = { name: ShedNameSchema, session: SessionNameSchema };
const Flag = v.optional(v.picklist(["true", "false"]));

/** /api/sheds: sheds, their agent, logs and tmux sessions. */
export const SHED_API = defineEndpoints({
  listSheds: { method: "get", path: "/api/sheds", summary: "List sheds", response: ShedListSchema },
  createShed: {
    method: "post",
    path: "/api/sheds",
    summary: "Create a shed; returns when its agent answers",
    request: CreateShedRequestSchema,
    names: ["name"],
    response: ShedSchema,
    status: 201,
    progress: true,
    errors: ["INVALID_NAME", "INVALID_REQUEST", "SHED_EXISTS", "IMAGE_NOT_FOUND", "SNAPSHOT_NOT_FOUND", "UNSUPPORTED", "BACKEND_UNAVAILABLE"],
  },
  getShed: { method: "get", path: "/api/sheds/{name}", params: SHED_PARAMS, summary: "One shed", response: ShedSchema, errors: ["INVALID_NAME", "SHED_NOT_FOUND"] },
  deleteShed: {
    method: "delete",
    path: "/api/sheds/{name}",
    params: SHED_PARAMS,
    query: v.object({ force: Flag }),
    summary: "Delete a shed (query force=true to delete a running one)",
    progress: true,
    errors: ["SHED_NOT_FOUND", "SHED_NOT_STOPPED"],
  },
  startShed: {
    method: "post",
    path: "/api/sheds/{name}/start",
    params: SHED_PARAMS,
    summary: "Start a stopped shed",
    response: ShedSchema,
    progress: true,
    errors: ["SHED_NOT_FOUND", "SHED_BUSY"],
  },
  stopShed: {
    method: "post",
    path: "/api/sheds/{name}/stop",
    params: SHED_PARAMS,
    summary: "Stop a running shed",
    request: StopShedRequestSchema,
    response: ShedSchema,
    // The shutdown hook (up to 30 s) and the stop's own timeout come before the answer.
    slowAnswerMs: (req?: v.InferInput<typeof StopShedRequestSchema>) => ((req?.timeoutSeconds ?? 60) + 30) * 1000,
    errors: ["SHED_NOT_FOUND", "SHED_NOT_RUNNING"],
  },
  resetShed: {
    method: "post",
    path: "/api/sheds/{name}/reset",
    params: SHED_PARAMS,
    summary: "Wipe a stopped shed back to its image",
    response: ShedSchema,
    progress: true,
    errors: ["SHED_NOT_FOUND", "SHED_NOT_STOPPED"],
  },
  connectShedAgent: {
    method: "get",
    path: "/api/sheds/{name}/agent",
    params: SHED_PARAMS,
    query: v.object({ start: Flag }),
    summary: "The shed's agent (exec, files, tcp); query start=true starts a stopped shed first",
    websocket: "binary frames of the agent protocol (src/agent/protocol/frame.ts); the server relays each stream to the shed's agent",
    errors: ["SHED_NOT_FOUND", "SHED_NOT_RUNNING", "AGENT_UNAVAILABLE"],
  },
  getShedLogs: {
    method: "get",
    path: "/api/sheds/{name}/logs",
    params: SHED_PARAMS,
    query: LogsQuerySchema,
    summary: "What the shed's VM console or container printed (query tail=BYTES, default 256 KiB; since=10m or a time, where the logs carry times)",
    response: ShedLogsSchema,
    errors: ["SHED_NOT_FOUND", "UNSUPPORTED"],
  },
  followShedLogs: {
    method: "get",
    path: "/api/sheds/{name}/logs/follow",
    params: SHED_PARAMS,
    query: FollowLogsQuerySchema,
    summary: "The shed's last `lines` lines (default none), then what it prints, streamed as plain text until the client goes (`shed logs -f`)",
    binary: "response",
    contentType: "text/plain; charset=utf-8",
    archive: "the shed's output as it comes",
    errors: ["SHED_NOT_FOUND", "UNSUPPORTED"],
  },
  listSessions: {
    method: "get",
    path: "/api/sheds/{name}/sessions",
    params: SHED_PARAMS,
    summary: "The shed's tmux sessions (name, windows, attached, created, command)",
    response: SessionListSchema,
    errors: ["SHED_NOT_FOUND", "SHED_NOT_RUNNING", "AGENT_UNAVAILABLE"],
  },
  killSession: {
    method: "delete",
    path: "/api/sheds/{name}/sessions/{session}",
    params: SESSION_PARAMS,
    summary: "Kill a tmux session in the shed",
    errors: ["SHED_NOT_FOUND", "SESSION_NOT_FOUND"],
  },
});
