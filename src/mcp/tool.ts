import * as v from "valibot";
import type { ServerInfo } from "../api/schemas/info.ts";
import type { ShedClient } from "../sdk/shed-client.ts";

/** What decides which tools are offered and how their schemas look: the server's features as data. */
export interface ToolEnv {
  /** Absent while the server does not answer: every tool is offered, and each call says why it failed. */
  info?: ServerInfo;
  /**
   * The MCP server runs on the agent's own machine (`shed mcp` on stdio): tools that read or
   * write its files (copy in/out) are offered. Over /api/mcp they are not: "local" would be
   * the server's host.
   */
  local: boolean;
}

export interface ToolContext {
  client: ShedClient;
  /** Aborted when the MCP client cancels the call. */
  signal: AbortSignal;
  /** A progress notification, in words (sent only when the client asked for them with a progressToken; its count is the server's). */
  progress(message: string): void;
}

type Input = v.GenericSchema<unknown, Record<string, unknown>>;

export interface ToolDef<S extends Input = Input> {
  name: string;
  title: string;
  /** Written for a model that reads nothing else: what it does, when to use it, what comes back. */
  description: string;
  /** The arguments; fields come from the API catalog's schemas, so validation is the server's own. */
  input: (env: ToolEnv) => S;
  annotations?: { readOnlyHint?: boolean; destructiveHint?: boolean; idempotentHint?: boolean; openWorldHint?: boolean };
  /** Whether the tool is offered here (default: always). */
  offered?: (env: ToolEnv) => boolean;
  /** Why it is not, in words a model can act on (the result of a call to it anyway). */
  notOffered?: string;
  run(ctx: ToolContext, args: v.InferOutput<S>): Promise<unknown>;
}

/** Keeps each tool's argument type tied to its schema. */
export function defineTool<S extends Input>(def: ToolDef<S>): ToolDef {
  return def as unknown as ToolDef;
}

/** A field with the words a model reads for it (the schema's checks are kept). */
export function described<S extends v.GenericSchema>(schema: S, text: string) {
  return v.pipe(schema, v.description(text));
}

/** An optional field, described. */
export function optionalField<S extends v.GenericSchema>(schema: S, text: string) {
  return v.optional(described(schema, text));
}

/** The `confirm: true` a destructive tool needs: a model must say it means it. */
export function confirmField(why: string) {
  return described(v.literal(true, `confirm must be true: ${why}`), "Must be true: deleting cannot be undone");
}

/** Whether any backend this server has (and can run) offers a feature. */
export function anyBackend(env: ToolEnv, feature: keyof NonNullable<ServerInfo["backends"][number]["features"]>): boolean {
  return !env.info || env.info.backends.some((b) => b.available && b.features?.[feature]);
}
