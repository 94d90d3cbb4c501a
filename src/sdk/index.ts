/**
 * shed's client library: `import { ShedClient } from "./dist/client/shed-client.js"`
 * (built by `make build` or `bun build.ts --only client`, for Bun and Node 22+): everything a
 * program needs to drive a shed-server: sheds, exec, files, copies, sessions, images, snapshots; errors are ShedError with
 * the same stable codes as the CLI's `--json` and the HTTP API.
 */
export { ShedClient, type OperationOptions, type ShedClientOptions } from "./shed-client.ts";
export { DEFAULT_MAX_OUTPUT_BYTES, MAX_OUTPUT_BYTES, type CapturedOutput, type ExecOptions, type ExecResult, type RunOptions } from "./exec.ts";
export { DEFAULT_MAX_READ_BYTES, type DirEntry, type FileOptions, type ReadFileResult } from "./files.ts";
export { ERROR_CODES, type ErrorCode, ShedError } from "../api/errors.ts";
export type { ExecProcess, ExecRequest, ExitStatus } from "../agent/protocol/api.ts";
export type { ServerInfo, BackendFeatures } from "../api/schemas/info.ts";
export type { CreateShedRequest, ProgressEvent, Shed } from "../api/schemas/shed.ts";
export type { CreateSnapshotRequest, Snapshot } from "../api/schemas/snapshot.ts";
export type { TmuxSession } from "../api/schemas/session.ts";
export type { ImageSummary } from "../api/schemas/image.ts";
