import * as v from "valibot";
import type { Transport } from "../agent/protocol/transport.ts";
import { type ErrorCode, ShedError } from "./errors.ts";
import type { Progress } from "./schemas/shed.ts";
import { formatIssues } from "./validation.ts";

/**
 * One endpoint of the HTTP API, defined once: the server mounts its route from it
 * (src/server/routes/mount.ts), the CLI calls it through `ApiClient.call`, and
 * /api/openapi.json is generated from it. Types of params, query, body and answer on both
 * sides are inferred from its schemas.
 */
export interface Endpoint {
  /** The OpenAPI operationId, and the key of the handler the server mounts. */
  id: string;
  method: "get" | "post" | "put" | "delete" | "head";
  path: string;
  summary: string;
  /**
   * Schema of each `{param}` in the path. Server and client check them before anything else
   * (400 INVALID_NAME); a test keeps every path's params declared.
   */
  params?: Record<string, v.GenericSchema<unknown, string>>;
  /** Schema of the query string (a key given twice is an array); 400 INVALID_REQUEST when it fails. */
  query?: v.ObjectSchema<v.ObjectEntries, undefined>;
  /** JSON request body; an empty body is `{}`. */
  request?: v.GenericSchema;
  /** Fields of the request body that are names: an invalid one is INVALID_NAME, as a path parameter is. */
  names?: readonly string[];
  response?: v.GenericSchema;
  /** Status of a JSON success (default 200; 204 when there is no result). */
  status?: 200 | 201;
  /** Answers with SSE progress events (then the result) when asked for text/event-stream. */
  progress?: boolean;
  /** Raw body (a tar archive, streamed both ways, never buffered whole) instead of JSON. */
  binary?: "request" | "response";
  /** What the binary body is, in words: "the image archive (a tar)". */
  archive?: string;
  /** The binary body's media type (default application/x-tar). */
  contentType?: string;
  /** WebSocket upgrade: what the messages carry. */
  websocket?: string;
  /** How much longer than the client's timeout the answer may take to start, from the request (a stop waits its own timeout). */
  slowAnswerMs?: (request: never) => number;
  errors?: readonly ErrorCode[];
  public?: boolean;
}

/** Endpoints keyed by id; the key becomes the entry's `id` (its operationId). */
export function defineEndpoints<const T extends Record<string, Omit<Endpoint, "id">>>(spec: T): { [K in keyof T]: T[K] & { id: K & string } } {
  return Object.fromEntries(Object.entries(spec).map(([id, ep]) => [id, { id, ...ep }])) as never;
}

type Schema = v.GenericSchema;
type Empty = Record<never, never>;
type Must<K extends string, T> = { [P in K]: T };
type May<K extends string, T> = { [P in K]?: T };
type Absent<K extends string> = { [P in K]?: undefined };
/** A part the caller must give when its input has a required field, else may leave out. */
type Given<K extends string, T> = Empty extends T ? May<K, T> : Must<K, T>;

/** What a caller sends as a binary body. */
type ArchiveBody = Blob | ReadableStream<Uint8Array>;
/** A binary answer: the archive as a stream, with its length when the server says it. */
interface Archive {
  body: ReadableStream<Uint8Array>;
  size?: number;
}

type ParamsPart<E extends Endpoint> = E["params"] extends Record<string, Schema> ? Must<"params", { [K in keyof E["params"]]: string }> : Absent<"params">;
type QueryPart<E extends Endpoint> = E["query"] extends Schema ? Given<"query", v.InferInput<E["query"]>> : Absent<"query">;
type BodyPart<E extends Endpoint> = E["binary"] extends "request"
  ? Must<"body", ArchiveBody>
  : E["request"] extends Schema
    ? Given<"body", v.InferInput<E["request"]>>
    : Absent<"body">;

/** What `ApiClient.call` takes for an endpoint: exactly the parts it has, typed from its schemas. */
export type CallOptions<E extends Endpoint> = ParamsPart<E> &
  QueryPart<E> &
  BodyPart<E> & {
    /** Progress events of a long operation (its answer is SSE either way). */
    onProgress?: E["progress"] extends true ? Progress : never;
    signal?: AbortSignal;
  };

/** The argument list of `call`: the options may be left out when nothing in them is required. */
export type CallArgs<E extends Endpoint> = Empty extends ParamsPart<E> & QueryPart<E> & BodyPart<E> ? [options?: CallOptions<E>] : [options: CallOptions<E>];

/** What `call` resolves to: the parsed response, the archive stream, or the WebSocket. */
export type CallResult<E extends Endpoint> = E["websocket"] extends string
  ? Transport
  : E["binary"] extends "response"
    ? Archive
    : E["response"] extends Schema
      ? v.InferOutput<E["response"]>
      : undefined;

/** Path `{param}` names, in order. */
export function pathParams(path: string): string[] {
  return [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
}

/** Checks path parameters against the endpoint's schemas (server and client alike): 400 INVALID_NAME. */
export function checkParams(ep: Endpoint, raw: Record<string, string | undefined>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(ep.params ?? {})) out[name] = checkName(name, schema, raw[name] ?? "");
  return out;
}

/** One value that must be a valid name (a path parameter, or a name field of a body). */
export function checkName(label: string, schema: v.GenericSchema, raw: unknown): unknown {
  const result = v.safeParse(schema, raw);
  if (result.success) return result.output;
  throw new ShedError("INVALID_NAME", `invalid ${label} ${JSON.stringify(raw)}: ${result.issues[0]?.message ?? "not allowed"}`);
}

/** Checks a query against the endpoint's schema: 400 INVALID_REQUEST naming the keys. */
export function checkQuery(ep: Endpoint, query: Record<string, unknown>): Record<string, unknown> {
  if (!ep.query) return {};
  const result = v.safeParse(ep.query, query);
  if (!result.success) throw new ShedError("INVALID_REQUEST", `invalid query: ${formatIssues(result.issues)}`);
  return result.output;
}
