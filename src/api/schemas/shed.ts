import * as v from "valibot";

/** DNS-label rules: what a shed name may be, checked before any side effect. */
export const SHED_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

export const ShedNameSchema = v.pipe(
  v.string(),
  v.regex(
    SHED_NAME_PATTERN,
    "must be 1-63 lowercase letters, digits or hyphens, not starting with a hyphen",
  ),
);

/** No NUL: the kernel cannot carry one in a path, an argument or an environment variable. */
const NO_NUL = v.regex(/^[^\0]*$/, "must not contain a NUL character");

/** A bounded number whose messages name the field's limits. */
const bounded = (min: number, max: number, unit: string, integer = false) =>
  v.pipe(
    v.number(),
    v.check((n) => !integer || Number.isInteger(n), "must be a whole number"),
    v.minValue(min, `must be at least ${min}${unit}`),
    v.maxValue(max, `must be at most ${max}${unit}`),
  );

/** Limits of a create request (and of the server's defaults for it). */
export const LIMITS = {
  cpus: { min: 0.1, max: 256 },
  /** 1 TiB. */
  memoryMb: { min: 64, max: 1_048_576 },
  /** A day. */
  createTimeoutSeconds: { min: 1, max: 86_400 },
  stopTimeoutSeconds: { min: 0, max: 3600 },
  envEntries: 256,
  envValueBytes: 32_768,
  addDirs: 32,
} as const;

export const CpusSchema = bounded(LIMITS.cpus.min, LIMITS.cpus.max, "");
export const MemoryMbSchema = bounded(LIMITS.memoryMb.min, LIMITS.memoryMb.max, " MB", true);

const EnvSchema = v.pipe(
  v.record(
    v.pipe(v.string(), v.regex(/^[A-Za-z_][A-Za-z0-9_]{0,255}$/, "an environment variable name is letters, digits and _, not starting with a digit")),
    v.pipe(v.string(), NO_NUL, v.maxLength(LIMITS.envValueBytes, `must be at most ${LIMITS.envValueBytes} characters`)),
  ),
  v.check((env) => Object.keys(env).length <= LIMITS.envEntries, `at most ${LIMITS.envEntries} environment variables`),
);

/** A host path or a similar free-form string in a request. */
const HostString = v.pipe(v.string(), v.minLength(1), v.maxLength(4096, "must be at most 4096 characters"), NO_NUL);

export const SHED_STATES = ["creating", "running", "stopped", "error", "deleting"] as const;
export const ShedStateSchema = v.picklist(SHED_STATES);
export type ShedState = v.InferOutput<typeof ShedStateSchema>;

/** A backend's name; which ones a server has is its registry's (GET /api/info lists them). */
export const BackendNameSchema = v.pipe(v.string(), v.regex(/^[a-z][a-z0-9-]{0,31}$/, "a backend name is lowercase letters, digits and hyphens (GET /api/info lists them)"));
export type BackendName = v.InferOutput<typeof BackendNameSchema>;

/** A shed as the API returns it (and as the state store keeps it, plus backend data). */
export const ShedSchema = v.object({
  name: ShedNameSchema,
  backend: BackendNameSchema,
  image: v.string(),
  state: ShedStateSchema,
  cpus: v.number(),
  memoryMb: v.number(),
  createdAt: v.string(),
  updatedAt: v.string(),
  /** Why the shed is in `error`, or a warning from the last operation. */
  error: v.optional(v.string()),
  /** Non-fatal problems from create (provisioning, sync): the shed is usable anyway. */
  warnings: v.optional(v.array(v.string())),
  /** Whether the agent answered the last health check. */
  healthy: v.optional(v.boolean()),
  /** What bounds the shed: its CPUs and memory, and (containers) how many processes it may have at once. */
  limits: v.optional(v.object({ cpus: v.number(), memoryMb: v.number(), pids: v.optional(v.number()) })),
  server: v.optional(v.string()),
  /** The digest of the image the shed was made from (the engine's image id on Docker). */
  imageDigest: v.optional(v.string()),
  /** Host directories mounted in the shed. */
  mounts: v.optional(v.array(v.object({ source: v.string(), target: v.string(), readonly: v.boolean() }))),
  /** The snapshot the shed was spawned from. */
  fromSnapshot: v.optional(v.string()),
  /** Names of the shed's own environment variables (create -e); their values are not shown. */
  envNames: v.optional(v.array(v.string())),
});
export type Shed = v.InferOutput<typeof ShedSchema>;

export const CreateShedRequestSchema = v.object({
  name: ShedNameSchema,
  image: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(1024, "must be at most 1024 characters"), NO_NUL)),
  backend: v.optional(BackendNameSchema),
  cpus: v.optional(CpusSchema),
  memoryMb: v.optional(MemoryMbSchema),
  env: v.optional(EnvSchema),
  /** VM backends: size of the shed's writable disk, e.g. "20G" (1G-100G, default 5G). */
  upperSize: v.optional(v.pipe(v.string(), v.maxLength(32))),
  /** A directory on the server's host that is the shed's /workspace (docker: bind mount). */
  localDir: v.optional(HostString),
  /** More host directories: SRC[:DST][:ro]. */
  addDirs: v.optional(v.pipe(v.array(HostString), v.maxLength(LIMITS.addDirs, `at most ${LIMITS.addDirs} directories`))),
  /** Clone this repository into /workspace: owner/repo (GitHub) or a git URL. Not with localDir. */
  repo: v.optional(HostString),
  /** The snapshot whose writable state the shed starts from (seed 003): not with image or repo. */
  fromSnapshot: v.optional(v.pipe(v.string(), v.regex(SHED_NAME_PATTERN, "a snapshot name is 1-63 lowercase letters, digits or hyphens"))),
  /** Skip .shed/provision.yaml hooks. */
  noProvision: v.optional(v.boolean()),
  /** How long the whole create may take (default 600): past it the boot fails, a running provisioning step is cut. */
  timeoutSeconds: v.optional(bounded(LIMITS.createTimeoutSeconds.min, LIMITS.createTimeoutSeconds.max, " s")),
});
export type CreateShedRequest = v.InferOutput<typeof CreateShedRequestSchema>;

export const ShedListSchema = v.object({ sheds: v.array(ShedSchema) });

export const StopShedRequestSchema = v.object({
  timeoutSeconds: v.optional(bounded(LIMITS.stopTimeoutSeconds.min, LIMITS.stopTimeoutSeconds.max, " s")),
});

/** Progress events streamed as SSE by long operations (create, delete, pull, ...). */
export const ProgressEventSchema = v.object({
  /** What is happening ("image", "container", "agent", a layer digest, ...). */
  id: v.string(),
  status: v.string(),
  current: v.optional(v.number()),
  total: v.optional(v.number()),
});
export type ProgressEvent = v.InferOutput<typeof ProgressEventSchema>;
export type Progress = (event: ProgressEvent) => void;
