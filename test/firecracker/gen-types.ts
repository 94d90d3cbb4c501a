import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Contract, loadContract, refName, type Schema } from "./contract.ts";

/**
 * Generates the backend's request and answer types from Firecracker's contract:
 * src/backends/firecracker/api-types.gen.ts (checked in; contract-types.test.ts fails when
 * it is stale). Run: bun test/firecracker/gen-types.ts
 */
export const TYPES_FILE = join(import.meta.dirname, "../../src/backends/firecracker/api-types.gen.ts");

export function generateTypes(contract: Contract = loadContract()): string {
  const out: string[] = [
    `// Generated from firecracker-api.yaml (Firecracker ${contract.version}) by test/firecracker/gen-types.ts: do not edit.`,
    "/* eslint-disable */",
    "",
    `export const FIRECRACKER_API_VERSION = "${contract.version}";`,
    "",
  ];
  for (const [name, schema] of Object.entries(contract.definitions)) {
    if (schema.description) out.push(`/** ${oneLine(schema.description)} */`);
    if (schema.type === "object" && schema.properties) out.push(`export interface ${name} ${objectType(schema, "")}`, "");
    else out.push(`export type ${name} = ${typeOf(schema, "")};`, "");
  }
  out.push("/** Every operation's body by `METHOD /path` (path parameters in braces). */", "export interface FirecrackerBodies {");
  for (const op of contract.operations) {
    if (op.body) out.push(`  "${op.method} ${op.path}": ${typeOf(op.body, "  ")};`);
  }
  out.push("}", "");
  return out.join("\n");
}

function typeOf(s: Schema, indent: string): string {
  if (s.$ref) return refName(s.$ref);
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(" | ");
  switch (s.type) {
    case "object":
      return s.properties ? objectType(s, indent) : "Record<string, unknown>";
    case "array":
      return `${typeOf(s.items ?? {}, indent)}[]`;
    case "integer":
    case "number":
      return "number";
    case "string":
      return "string";
    case "boolean":
      return "boolean";
    default:
      return "unknown";
  }
}

function objectType(s: Schema, indent: string): string {
  const lines = ["{"];
  for (const [key, prop] of Object.entries(s.properties ?? {})) {
    if (prop.description) lines.push(`${indent}  /** ${oneLine(prop.description)} */`);
    const opt = s.required?.includes(key) ? "" : "?";
    lines.push(`${indent}  ${/^[a-z_][a-z0-9_]*$/i.test(key) ? key : JSON.stringify(key)}${opt}: ${typeOf(prop, `${indent}  `)};`);
  }
  lines.push(`${indent}}`);
  return lines.join("\n");
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").replaceAll("*/", "* /").trim();
}

if (import.meta.main) {
  writeFileSync(TYPES_FILE, generateTypes());
  console.log(`wrote ${TYPES_FILE}`);
}
