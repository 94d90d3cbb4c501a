import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

/**
 * Firecracker's API contract (swagger 2.0, v1.14.1, kept beside the backend that speaks it:
 * src/backends/firecracker/firecracker-api.yaml), read as data. The stand-in validates every
 * request from it and the backend's body types are generated from it (gen-types.ts): nothing
 * here knows an endpoint by name.
 */
export const CONTRACT_FILE = join(import.meta.dirname, "../../src/backends/firecracker/firecracker-api.yaml");

export interface Schema {
  type?: "object" | "string" | "integer" | "number" | "boolean" | "array";
  $ref?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  enum?: (string | number)[];
  items?: Schema;
  minimum?: number;
  maximum?: number;
  format?: string;
  description?: string;
  readOnly?: boolean;
}

export interface Operation {
  method: string;
  /** The path template, e.g. /drives/{drive_id}. */
  path: string;
  operationId: string;
  summary: string;
  /** The body's schema (absent: the operation takes none). */
  body?: Schema;
  bodyRequired: boolean;
  /** Path parameters, in order. */
  params: string[];
  /** Firecracker's own words in the summary: "Pre-boot only." / "Post-boot only.". */
  phase: "pre-boot" | "post-boot" | "any";
  /** The success status the contract lists (204 for updates, 200 for reads). */
  success: number;
}

export interface Contract {
  version: string;
  definitions: Record<string, Schema>;
  operations: Operation[];
}

type RawParam = { name: string; in: string; required?: boolean; schema?: Schema };
type RawOp = { operationId: string; summary?: string; parameters?: RawParam[]; responses: Record<string, unknown> };

export function loadContract(file = CONTRACT_FILE): Contract {
  const doc = parse(readFileSync(file, "utf8")) as {
    info: { version: string };
    paths: Record<string, Record<string, RawOp>>;
    definitions: Record<string, Schema>;
  };
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const params = op.parameters ?? [];
      const body = params.find((p) => p.in === "body");
      const summary = op.summary ?? "";
      operations.push({
        method: method.toUpperCase(),
        path,
        operationId: op.operationId,
        summary,
        body: body?.schema,
        // A PUT or PATCH always carries its body in Firecracker, whether or not the swagger says required.
        bodyRequired: !!body && (body.required === true || method !== "get"),
        params: params.filter((p) => p.in === "path").map((p) => p.name),
        phase: /pre-boot only/i.test(summary) ? "pre-boot" : /post-boot only/i.test(summary) ? "post-boot" : "any",
        success: Object.keys(op.responses).map(Number).find((s) => s >= 200 && s < 300) ?? 204,
      });
    }
  }
  return { version: doc.info.version, definitions: doc.definitions, operations };
}

/** The definition a `$ref` names ("#/definitions/Drive" -> Drive). */
export function refName(ref: string): string {
  return ref.replace(/^#\/definitions\//, "");
}

/** The operation for a request, with its path parameters; undefined when the contract has none. */
export function matchOperation(contract: Contract, method: string, path: string): { op: Operation; params: Record<string, string> } | undefined {
  const parts = path.split("/").filter(Boolean);
  for (const op of contract.operations) {
    if (op.method !== method) continue;
    const want = op.path.split("/").filter(Boolean);
    if (want.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const fits = want.every((w, i) => {
      if (!w.startsWith("{")) return w === parts[i];
      params[w.slice(1, -1)] = decodeURIComponent(parts[i]!);
      return true;
    });
    if (fits) return { op, params };
  }
  return undefined;
}

/**
 * Checks `value` against `schema` as Firecracker's deserializer does (serde with
 * deny_unknown_fields): required fields, JSON types, integers, enum variants, bounds, and no
 * field the contract does not name. Returns the first fault in serde's words, or undefined.
 * Stricter than Firecracker in one way: null is refused where it would read it as absent.
 */
export function validate(contract: Contract, schema: Schema, value: unknown, at = ""): string | undefined {
  if (schema.$ref) {
    const def = contract.definitions[refName(schema.$ref)];
    if (!def) return `contract error: no definition ${schema.$ref}`;
    return validate(contract, def, value, at);
  }
  const where = at ? ` at \`${at}\`` : "";
  const got = describe(value);
  if (schema.enum) {
    if (typeof value !== "string" && typeof value !== "number") return `invalid type: ${got}, expected one of ${variants(schema.enum)}${where}`;
    if (!schema.enum.includes(value)) return `unknown variant \`${value}\`, expected one of ${variants(schema.enum)}${where}`;
    return undefined;
  }
  switch (schema.type) {
    case "object": {
      if (!isObject(value)) return `invalid type: ${got}, expected struct${where}`;
      // An object with no properties in the contract is free-form (MMDS contents).
      if (!schema.properties) return undefined;
      const known = Object.keys(schema.properties);
      for (const key of Object.keys(value)) {
        if (!known.includes(key)) return `unknown field \`${key}\`, expected one of ${variants(known)}${where}`;
      }
      for (const key of schema.required ?? []) if (!(key in value)) return `missing field \`${key}\`${where}`;
      for (const [key, sub] of Object.entries(schema.properties)) {
        if (!(key in value)) continue;
        const fault = validate(contract, sub, value[key], at ? `${at}.${key}` : key);
        if (fault) return fault;
      }
      return undefined;
    }
    case "array": {
      if (!Array.isArray(value)) return `invalid type: ${got}, expected a sequence${where}`;
      for (const [i, item] of value.entries()) {
        const fault = validate(contract, schema.items ?? {}, item, `${at}[${i}]`);
        if (fault) return fault;
      }
      return undefined;
    }
    case "string":
      return typeof value === "string" ? undefined : `invalid type: ${got}, expected a string${where}`;
    case "boolean":
      return typeof value === "boolean" ? undefined : `invalid type: ${got}, expected a boolean${where}`;
    case "integer":
    case "number": {
      if (typeof value !== "number" || !Number.isFinite(value)) return `invalid type: ${got}, expected ${schema.type === "integer" ? "an integer" : "a number"}${where}`;
      if (schema.type === "integer" && !Number.isInteger(value)) return `invalid type: floating point \`${value}\`, expected an integer${where}`;
      if (schema.minimum !== undefined && value < schema.minimum) return `invalid value: ${value} is below the minimum ${schema.minimum}${where}`;
      if (schema.maximum !== undefined && value > schema.maximum) return `invalid value: ${value} is above the maximum ${schema.maximum}${where}`;
      return undefined;
    }
    default:
      return undefined;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function variants(list: (string | number)[]): string {
  return list.map((v) => `\`${v}\``).join(", ");
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "sequence";
  if (typeof v === "object") return "map";
  if (typeof v === "string") return `string ${JSON.stringify(v)}`;
  if (typeof v === "number") return Number.isInteger(v) ? `integer \`${v}\`` : `floating point \`${v}\``;
  return `${typeof v} \`${String(v)}\``;
}
