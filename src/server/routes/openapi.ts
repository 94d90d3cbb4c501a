import { openApiDocument } from "../../api/openapi.ts";
import { VERSION } from "../../version.ts";
import type { Handler } from "./mount.ts";
import type { SERVER_API } from "../../api/endpoints/server.ts";

/** GET /api/openapi.json: generated once, on first ask. */
export function openApiHandler(): Handler<typeof SERVER_API.getOpenApi> {
  let doc: Record<string, unknown> | undefined;
  return () => (doc ??= openApiDocument(VERSION));
}
