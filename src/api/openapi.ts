import { type Endpoint, pathParams } from "./endpoint.ts";
import { ENDPOINTS } from "./endpoints.ts";
import { ERROR_CODES, type ErrorCode } from "./errors.ts";
import { jsonSchema } from "./json-schema.ts";

type Json = Record<string, unknown>;

const schema = jsonSchema;

const BINARY = (ep: Endpoint, fallback: string) => ({ [ep.contentType ?? "application/x-tar"]: { schema: { type: "string", format: "binary", description: ep.archive ?? fallback } } });
const SSE = { "text/event-stream": { schema: { type: "string", description: "SSE: `progress` events, then one `result` (the JSON answer) or `error` ({code, message})" } } };

/** OpenAPI 3.1 document generated from the endpoint catalog and its valibot schemas. */
export function openApiDocument(version: string): Json {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const ep of ENDPOINTS) {
    paths[ep.path] ??= {};
    paths[ep.path]![ep.method] = operation(ep);
  }
  return {
    openapi: "3.1.0",
    info: { title: "shed-server API", version, description: "The HTTP API of shed-server: sheds, their agents, images. Every error is `{code, message}`." },
    servers: [
      {
        url: "http://{host}:{port}",
        description: "a shed-server (it binds 127.0.0.1:8080 unless configured)",
        variables: { host: { default: "127.0.0.1" }, port: { default: "8080" } },
      },
    ],
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "auth.mode token: the server's API token" } },
      schemas: {
        Error: {
          type: "object",
          required: ["code", "message"],
          properties: { code: { type: "string", enum: Object.keys(ERROR_CODES) }, message: { type: "string" } },
        },
      },
    },
    security: [{ bearer: [] }],
    paths,
  };
}

function operation(ep: Endpoint): Json {
  const op: Json = { operationId: ep.id, summary: ep.summary, responses: responses(ep) };
  const parameters = [
    ...pathParams(ep.path).map((name) => ({ name, in: "path", required: true, schema: ep.params?.[name] ? schema(ep.params[name]) : { type: "string" } })),
    ...Object.entries(ep.query?.entries ?? {}).map(([name, s]) => ({ name, in: "query", required: s.type !== "optional", schema: schema(s) })),
  ];
  if (parameters.length) op.parameters = parameters;
  if (ep.request) op.requestBody = { content: { "application/json": { schema: schema(ep.request) } } };
  if (ep.binary === "request") op.requestBody = { required: true, content: BINARY(ep, "a tar archive") };
  if (ep.public) op.security = [];
  return op;
}

function responses(ep: Endpoint): Json {
  const out: Json = {};
  if (ep.websocket) out["101"] = { description: `Switching Protocols to a WebSocket: ${ep.websocket}` };
  else if (ep.binary === "response") out["200"] = { description: "Streamed", content: BINARY(ep, "a tar archive") };
  else if (ep.response) out[String(ep.status ?? 200)] = { description: "OK", content: { "application/json": { schema: schema(ep.response) } } };
  else out["204"] = { description: "Done" };
  // SSE is asked for with Accept: text/event-stream; it is always a 200, its outcome inside.
  if (ep.progress) out["200"] = { description: "Progress, then the outcome", content: { ...((out["200"] as { content?: Json })?.content ?? {}), ...SSE } };
  for (const code of new Set([...impliedErrors(ep), ...(ep.errors ?? [])])) {
    const status = String(ERROR_CODES[code]);
    out[status] ??= { description: "", content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } };
    const r = out[status] as { description: string };
    r.description = r.description ? `${r.description}, ${code}` : code;
  }
  return out;
}

/** The errors every endpoint of its kind can answer with, whatever its handler does. */
function impliedErrors(ep: Endpoint): ErrorCode[] {
  const codes: ErrorCode[] = [];
  if (ep.params) codes.push("INVALID_NAME");
  if (ep.query || ep.request || ep.binary === "request") codes.push("INVALID_REQUEST");
  if (ep.request || ep.binary === "request") codes.push("PAYLOAD_TOO_LARGE");
  if (!ep.public) codes.push("UNAUTHORIZED");
  return codes;
}
