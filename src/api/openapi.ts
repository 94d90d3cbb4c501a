import { toJsonSchema } from "@valibot/to-json-schema";
import { ERROR_CODES, type ErrorCode } from "./errors.ts";
import { ENDPOINTS } from "./endpoints.ts";

/** OpenAPI 3.1 document generated from the endpoint catalog and its valibot schemas. */
export function openApiDocument(version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const schema = (s: Parameters<typeof toJsonSchema>[0]) => toJsonSchema(s, { errorMode: "ignore" });
  for (const ep of ENDPOINTS) {
    const responses: Record<string, unknown> = {};
    const content: Record<string, unknown> = {};
    if (ep.response) content["application/json"] = { schema: schema(ep.response) };
    if (ep.progress) {
      content["text/event-stream"] = {
        schema: { type: "string", description: "SSE: `progress` events, then one `result` or `error`" },
      };
    }
    if (ep.binary === "response") content["application/x-tar"] = { schema: { type: "string", format: "binary" } };
    responses[ep.websocket ? "101" : "200"] = {
      description: ep.websocket ? `WebSocket: ${ep.websocket}` : "OK",
      ...(Object.keys(content).length ? { content } : {}),
    };
    const implied: ErrorCode[] = [...(ep.params ? (["INVALID_NAME"] as const) : []), ...(ep.query ? (["INVALID_REQUEST"] as const) : [])];
    for (const code of new Set([...implied, ...(ep.errors ?? [])])) {
      const status = String(ERROR_CODES[code]);
      responses[status] ??= { description: "", content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } };
      const r = responses[status] as { description: string };
      r.description = r.description ? `${r.description}, ${code}` : code;
    }
    const op: Record<string, unknown> = { summary: ep.summary, responses };
    if (ep.request) op.requestBody = { content: { "application/json": { schema: schema(ep.request) } } };
    if (ep.binary === "request") op.requestBody = { content: { "application/x-tar": { schema: { type: "string", format: "binary" } } } };
    if (ep.public) op.security = [];
    const params = [...ep.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: "path",
      required: true,
      schema: ep.params?.[m[1]!] ? schema(ep.params[m[1]!]!) : { type: "string" },
    }));
    if (params.length) op.parameters = params;
    paths[ep.path] ??= {};
    paths[ep.path]![ep.method] = op;
  }
  return {
    openapi: "3.1.0",
    info: { title: "shed-server API", version },
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
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
