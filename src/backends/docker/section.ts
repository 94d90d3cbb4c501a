import * as v from "valibot";
import { backendSection } from "../config-section.ts";

/** The docker section of server.yaml. */
export const DockerSectionSchema = backendSection({
  socket: v.optional(v.string(), "/var/run/docker.sock"),
  /** Prefix of container and volume names (tests use their own, so parallel servers never clash). */
  name_prefix: v.optional(v.pipe(v.string(), v.regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/)), "shed-"),
  /** Extra labels on every container and volume (tests add shed.test=1). */
  labels: v.optional(v.record(v.string(), v.string()), {}),
  /** Processes (and threads) a shed may have at once: a fork bomb in one shed cannot starve the host. */
  pids_limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(16, "must be at least 16"), v.maxValue(4_194_304, "must be at most 4194304")), 4096),
});
export type DockerSection = v.InferOutput<typeof DockerSectionSchema>;
