import type { ArgsDef } from "./command.ts";

/** The output flags of every listing (list, image ls, sessions, ...). */
export const LIST_ARGS = {
  quiet: { type: "boolean", alias: "q", description: "Print names only, one per line" },
  format: {
    type: "string",
    valueHint: "FORMAT",
    description: "json, yaml, table, or a template over the JSON fields: '{{.name}} {{.state}}'",
  },
} as const satisfies ArgsDef;
