import * as v from "valibot";
import { backendSection } from "../config-section.ts";

const seconds = (max: number) => v.pipe(v.number(), v.minValue(1), v.maxValue(max, `must be at most ${max} s`));

/**
 * The vz section of server.yaml (seed 001): the common keys plus where vfkit and the
 * backend's files are. Paths default under the state dir; `socket_dir` exists because macOS
 * limits a unix socket path to 104 bytes and the state dir (~/Library/Application Support/...)
 * is long and has a space.
 */
export const VzSectionSchema = backendSection({
  /** Boot images (erofs lowers, kernels, initramfs) and upper templates; default <state_dir>/vz/images. */
  images_dir: v.optional(v.string()),
  /** vfkit's path; default: `vfkit` on PATH. */
  vfkit_path: v.optional(v.string()),
  /** A kernel and initramfs for every shed instead of the image's own (an arm64 `Image`: VZ boots no compressed kernel). */
  kernel_path: v.optional(v.string()),
  initrd_path: v.optional(v.string()),
  /** Instance dirs (upper disk, console log, pid file); default <state_dir>/vz/instances. */
  instance_dir: v.optional(v.string()),
  /** vfkit's REST and agent sockets; default <state_dir>/vz/sockets. At most 104 bytes a path on macOS. */
  socket_dir: v.optional(v.string()),
  /** How long a boot may take until the agent answers. */
  start_timeout: v.optional(seconds(3600), 120),
  /** nat: vfkit's NAT network (macOS's vmnet); none: no NIC. */
  network: v.optional(v.picklist(["nat", "none"]), "nat"),
  /** Make new uppers by cloning a per-size formatted template (clonefile/FICLONE, else a sparse copy). */
  upper_template: v.optional(v.boolean(), true),
});
export type VzSection = v.InferOutput<typeof VzSectionSchema>;
