import * as v from "valibot";
import { ShedSchema } from "../../api/schemas/shed.ts";

/** What the state store keeps per shed: the API view plus what the backend needs back. */
export const ShedRecordSchema = v.object({
  ...ShedSchema.entries,
  env: v.optional(v.record(v.string(), v.string()), {}),
  /** VM backends: the writable disk's size asked for at create (reset makes the same). */
  upperSizeBytes: v.optional(v.number()),
  /** An operation under way (written before the backend acts, cleared when it is done). */
  pending: v.optional(v.picklist(["start", "stop", "reset"])),
  /** Container backends: the pids limit set at create (docker.pids_limit then). */
  pidsLimit: v.optional(v.number()),
  backendData: v.optional(v.record(v.string(), v.unknown()), {}),
  mounts: v.optional(v.array(v.object({ source: v.string(), target: v.string(), readonly: v.boolean() })), []),
  /** What provisioning needs again on start/stop (repo, hooks state, ...); owned by the provisioner. */
  provision: v.optional(v.record(v.string(), v.unknown()), {}),
});
export type ShedRecord = v.InferOutput<typeof ShedRecordSchema>;
