import * as v from "valibot";

/**
 * The JSON payloads of HELLO, OPEN and CONTROL frames, defined once. Both ends validate
 * what they receive; a payload that does not fit is answered with an ERROR frame.
 */

/** Protocol versions this build speaks. A newer host talks to an older agent within the overlap. */
export const PROTOCOL_MIN = 1;
export const PROTOCOL_MAX = 1;
/** Credit a receiver grants per channel when a stream opens, unless its HELLO says otherwise. */
export const DEFAULT_WINDOW = 1024 * 1024;

const u32 = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(0xffffffff));
const windowSize = v.pipe(v.number(), v.integer(), v.minValue(16 * 1024), v.maxValue(64 * 1024 * 1024));

export const ClientHelloSchema = v.object({
  min: v.pipe(v.number(), v.integer(), v.minValue(1)),
  max: v.pipe(v.number(), v.integer(), v.minValue(1)),
  /** Who is asking, for the agent's log ("shed-server 0.1.0"). */
  client: v.optional(v.string()),
  /** Credit this side grants per channel on each new stream. */
  window: v.optional(windowSize),
});
export type ClientHello = v.InferOutput<typeof ClientHelloSchema>;

export const ServerHelloSchema = v.object({
  protocol: v.pipe(v.number(), v.integer(), v.minValue(1)),
  version: v.string(),
  hostname: v.string(),
  pid: u32,
  uptimeMs: v.number(),
  window: v.optional(windowSize),
});
export type ServerHello = v.InferOutput<typeof ServerHelloSchema>;

export const ErrorPayloadSchema = v.object({ code: v.string(), message: v.string() });
export type ErrorPayload = v.InferOutput<typeof ErrorPayloadSchema>;

const envKey = v.pipe(v.string(), v.regex(/^[^=\0]+$/, "env names are non-empty, without '=' or NUL"));
const noNul = v.pipe(v.string(), v.regex(/^[^\0]*$/, "must not contain NUL"));

const execFields = {
  /** Run this argv directly (no shell). Exactly one of argv / command. */
  argv: v.optional(v.pipe(v.array(noNul), v.minLength(1, "argv needs at least the program"))),
  /** Run this string in the image's login shell (`bash -lc`, else `sh -lc`). */
  command: v.optional(noNul),
  /** argv goes through the login shell (its PATH and profile) unless this is false. */
  login: v.optional(v.boolean()),
  env: v.optional(v.record(envKey, noNul)),
  cwd: v.optional(v.pipe(noNul, v.minLength(1))),
  /** "shed" (uid 1000, the default) or "root", or a user name / numeric uid known in the guest. */
  user: v.optional(v.pipe(noNul, v.minLength(1))),
  /** Allocate a PTY of this size; stderr is then merged into stdout as on any terminal. */
  tty: v.optional(
    v.object({
      rows: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(10_000)),
      cols: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(10_000)),
      term: v.optional(v.pipe(v.string(), v.regex(/^[\w.+-]{1,64}$/))),
    }),
  ),
};
/** Exactly one of argv / command; checked by the agent (valibot variants take no pipes). */
export const ExecRequestSchema = v.object(execFields);
/** What an exec asks for: the type every side uses is the schema's. */
export type ExecRequest = v.InferOutput<typeof ExecRequestSchema>;

export const OpenRequestSchema = v.variant("op", [
  v.object({ op: v.literal("health") }),
  v.object({ op: v.literal("exec"), ...execFields }),
  v.object({ op: v.literal("put"), dir: v.pipe(noNul, v.minLength(1)), user: v.optional(noNul) }),
  v.object({ op: v.literal("get"), path: v.pipe(noNul, v.minLength(1)) }),
  v.object({
    op: v.literal("tcp"),
    port: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65535)),
    host: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(255))),
  }),
  v.object({ op: v.literal("shutdown"), drainMs: v.pipe(v.number(), v.minValue(0), v.maxValue(600_000)) }),
  // A unix socket in the guest for the life of this stream (SSH_AUTH_SOCK), and one of its connections.
  v.object({ op: v.literal("listen"), path: v.pipe(noNul, v.regex(/^\/.{1,200}$/, "an absolute path")), user: v.optional(noNul) }),
  v.object({ op: v.literal("accept"), path: v.pipe(noNul, v.minLength(1)) }),
]);
export type OpenRequest = v.InferOutput<typeof OpenRequestSchema>;

/** CONTROL messages the host sends on an exec stream. */
export const HostControlSchema = v.union([
  v.object({
    resize: v.object({
      rows: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(10_000)),
      cols: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(10_000)),
    }),
  }),
  v.object({ signal: v.pipe(v.string(), v.regex(/^SIG[A-Z0-9]+$/)) }),
]);
export type HostControl = v.InferOutput<typeof HostControlSchema>;

/** CONTROL messages the agent sends: a stream started, an exec finished, a request's result. */
export const AgentControlSchema = v.union([
  v.object({ started: v.object({ pid: v.optional(u32) }) }),
  v.object({ exit: v.object({ code: v.pipe(v.number(), v.integer()), signal: v.optional(v.string()) }) }),
  v.object({ result: v.record(v.string(), v.unknown()) }),
]);
export type AgentControl = v.InferOutput<typeof AgentControlSchema>;
