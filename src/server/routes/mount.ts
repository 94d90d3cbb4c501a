import type { Context, Hono } from "hono";
import type * as v from "valibot";
import { checkName, checkParams, checkQuery, type Endpoint } from "../../api/endpoint.ts";
import { ShedError } from "../../api/errors.ts";
import type { Progress } from "../../api/schemas/shed.ts";
import { parseOrThrow } from "../../api/validation.ts";
import { type SocketSession, upgrade } from "../websocket.ts";
import { type BodyCaps, cappedBody, refuseLongBody } from "./body-limit.ts";
import { jsonBody, progressResponse } from "./progress-response.ts";

type Schema = v.GenericSchema;
type Awaitable<T> = T | Promise<T>;

/** What a handler gets: everything the catalog declares, checked against its schemas. */
export interface Input<E extends Endpoint> {
  params: E["params"] extends Record<string, Schema> ? { [K in keyof E["params"]]: v.InferOutput<E["params"][K]> } : Record<string, never>;
  query: E["query"] extends Schema ? v.InferOutput<E["query"]> : Record<string, never>;
  /** Parsed JSON, or a binary body as a stream that fails with 413 past the cap. */
  body: E["binary"] extends "request" ? ReadableStream<Uint8Array> : E["request"] extends Schema ? v.InferOutput<E["request"]> : undefined;
}

/** What a handler answers with; the mount makes the Response (none, 204, where the catalog declares no response). */
type Answer<E extends Endpoint> = E["websocket"] extends string
  ? SocketSession
  : E["binary"] extends "response"
    ? { stream: ReadableStream<Uint8Array>; size?: number }
    : E["response"] extends Schema
      ? v.InferInput<E["response"]>
      : unknown;

/** A long operation: runs once the answer has started (SSE progress, then the result). */
export type Operation<T> = (progress: Progress) => Promise<T>;

/**
 * One endpoint's handler. A progress endpoint's handler does its checks (a failure is a
 * plain HTTP error) and returns the operation to run while progress streams.
 */
export type Handler<E extends Endpoint> = (input: Input<E>) => Awaitable<E["progress"] extends true ? Operation<Answer<E>> : Answer<E>>;

/** A handler for every endpoint of a group (the compiler checks none is missing). */
export type Handlers<G extends Record<string, Endpoint>> = { [K in keyof G]: Handler<G[K]> };

type AnyHandler = (input: { params: unknown; query: unknown; body: unknown }) => Awaitable<unknown>;

/**
 * Registers one hono route per catalog entry. Our own small mount rather than hono's
 * validator or OpenAPI middleware: those read a JSON body only when its Content-Type says
 * JSON (ours take any), buffer it whole with no cap of their own, and know nothing of SSE
 * progress, streamed tar bodies or Bun's WebSocket upgrade, which are half of this API; and
 * they make the route the source of the document, where here the catalog is the source
 * that the CLI's client shares without loading hono. So the mount does, for every route,
 * in order: the body cap, path parameters (400 INVALID_NAME), query (400 INVALID_REQUEST),
 * body (JSON parsed and checked, or an archive streamed under its cap), then the handler,
 * and turns its answer into JSON, SSE progress, an archive stream or a WebSocket.
 */
export function mountEndpoints<G extends Record<string, Endpoint>>(app: Hono, endpoints: G, handlers: Handlers<G>, caps: BodyCaps): void {
  for (const [id, ep] of Object.entries(endpoints)) {
    const handler = handlers[id] as AnyHandler | undefined;
    if (!handler) throw new Error(`no handler for endpoint ${id}`);
    app.on(ep.method.toUpperCase(), honoPath(ep.path), (c) => serve(c, ep, handler, caps));
  }
}

async function serve(c: Context, ep: Endpoint, handler: AnyHandler, caps: BodyCaps): Promise<Response> {
  const cap = ep.binary === "request" ? caps.archiveCap : caps.jsonCap;
  refuseLongBody(c, cap);
  const params = checkParams(ep, c.req.param() as Record<string, string>);
  const queries = Object.entries(c.req.queries()).map(([k, vals]) => [k, vals.length === 1 ? vals[0] : vals]);
  const query = checkQuery(ep, Object.fromEntries(queries));
  const answer = await handler({ params, query, body: await readBody(c, ep, cap) });
  if (ep.websocket) return upgrade(c, answer as SocketSession);
  if (ep.progress) {
    const op = answer as Operation<unknown>;
    return progressResponse(c, ep.response ? op : (progress) => op(progress).then(() => undefined), ep.status);
  }
  if (ep.binary === "response") {
    const archive = answer as { stream: ReadableStream<Uint8Array>; size?: number };
    const length = archive.size === undefined ? {} : { "content-length": String(archive.size) };
    return new Response(archive.stream, { headers: { "content-type": ep.contentType ?? "application/x-tar", ...length } });
  }
  return answer === undefined || !ep.response ? c.body(null, 204) : c.json(answer, ep.status ?? 200);
}

async function readBody(c: Context, ep: Endpoint, cap: number): Promise<unknown> {
  if (ep.binary === "request") {
    const body = cappedBody(c, cap);
    if (!body) throw new ShedError("INVALID_REQUEST", `send ${ep.archive ?? "the archive"} as the request body`);
    return body;
  }
  if (!ep.request) return undefined;
  const raw = await jsonBody(c, cap);
  // A bad name is INVALID_NAME wherever it comes, as in a path.
  const entries = (ep.request as Partial<v.ObjectSchema<v.ObjectEntries, undefined>>).entries ?? {};
  for (const field of ep.names ?? []) {
    const value = raw && typeof raw === "object" ? (raw as Record<string, unknown>)[field] : undefined;
    if (typeof value === "string" && entries[field]) checkName(field, entries[field], value);
  }
  return parseOrThrow(ep.request, raw);
}

/** `/api/sheds/{name}` -> `/api/sheds/:name`. */
export function honoPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ":$1");
}

/** The methods the catalog has for a concrete path (for 405's Allow), none when no endpoint matches it. */
export function allowedMethods(endpoints: readonly Endpoint[], path: string): string[] {
  const methods = new Set<string>();
  for (const ep of endpoints) {
    const pattern = new RegExp(`^${ep.path.replace(/\{\w+\}/g, "[^/]+")}/?$`);
    if (pattern.test(path)) methods.add(ep.method.toUpperCase());
  }
  if (methods.has("GET")) methods.add("HEAD");
  return [...methods];
}
