import * as v from "valibot";
import { BackendNameSchema, ShedNameSchema, ShedSchema, ShedStateSchema } from "../../api/schemas/shed.ts";
import { InstanceSpecSchema } from "../../backends/backend.ts";

/**
 * What the state store keeps per shed: its state, the InstanceSpec it was created with (what
 * the backend gets on every call, as it is: reset makes the same again), and what the backend
 * and the provisioner need back. The API view is derived from it (sheds/shed-view.ts).
 */
export const ShedRecordSchema = v.object({
  name: ShedNameSchema,
  backend: BackendNameSchema,
  state: ShedStateSchema,
  createdAt: v.string(),
  updatedAt: v.string(),
  error: ShedSchema.entries.error,
  warnings: ShedSchema.entries.warnings,
  healthy: ShedSchema.entries.healthy,
  /** An operation under way (written before the backend acts, cleared when it is done). */
  pending: v.optional(v.picklist(["start", "stop", "reset"])),
  spec: InstanceSpecSchema,
  /** The snapshot it was spawned from (seed 003). */
  fromSnapshot: v.optional(v.string()),
  backendData: v.optional(v.record(v.string(), v.unknown()), {}),
  /** What provisioning needs again on start/stop (repo, hooks state, ...); owned by the provisioner. */
  provision: v.optional(v.record(v.string(), v.unknown()), {}),
});
export type ShedRecord = v.InferOutput<typeof ShedRecordSchema>;

/** The spec's fields as state files kept them before the record held the spec itself. */
const SPEC_FIELDS = ["image", "cpus", "memoryMb", "env", "upperSizeBytes", "pidsLimit", "mounts"] as const;

/**
 * A state file as read, in the current shape: files written before the record held its spec
 * (the spec's fields at the top level) get their spec made from those fields, so a file any
 * earlier server left behind still loads. The next write stores the current shape.
 */
export function upgradeRecord(raw: unknown): unknown {
  if (!raw || typeof raw !== "object" || Array.isArray(raw) || "spec" in raw) return raw;
  const old = raw as Record<string, unknown>;
  const spec: Record<string, unknown> = { name: old.name };
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(old)) {
    if ((SPEC_FIELDS as readonly string[]).includes(key)) spec[key] = value;
    else rest[key] = value;
  }
  return { ...rest, spec };
}
