import { toJsonSchema } from "@valibot/to-json-schema";
import type * as v from "valibot";

/**
 * A valibot schema as JSON Schema (draft 2020-12 keywords, its own `$schema` dropped: the
 * OpenAPI document and MCP's tool list each say the dialect). Checks JSON Schema cannot say
 * (v.check, transforms) are left out; the valibot schema still enforces them.
 */
export function jsonSchema(s: v.GenericSchema): Record<string, unknown> {
  const { $schema: _, ...json } = toJsonSchema(s, { errorMode: "ignore" }) as Record<string, unknown>;
  return json;
}
