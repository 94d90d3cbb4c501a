import * as v from "valibot";
import { backendSection } from "../config-section.ts";

const port = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(0xffffffff));

/** The firecracker section of server.yaml (seed 002's keys; the common ones come with it). */
export const FirecrackerSectionSchema = backendSection({
  /** The firecracker executable (a path, or a name on PATH). */
  binary: v.optional(v.string(), "firecracker"),
  /** An uncompressed vmlinux for every shed; default: the one the image carries (/boot/shed/vmlinux). */
  kernel_path: v.optional(v.string()),
  /** Where each shed's files go (disk, console, pid file); default <state_dir>/firecracker/instances. */
  instance_dir: v.optional(v.string()),
  /** Where the API and vsock sockets go; default: the instance's dir (or a short dir under /tmp). */
  socket_dir: v.optional(v.string()),
  /** The first guest vsock CID; each shed takes the next free one. */
  vsock_base_cid: v.optional(v.pipe(v.number(), v.integer(), v.minValue(3)), 100),
  /** The guest agent's vsock port. */
  console_port: v.optional(port, 1024),
  /** Seconds a boot may take until the agent answers. */
  start_timeout: v.optional(v.pipe(v.number(), v.minValue(1), v.maxValue(3600)), 120),
  /** isolated: a tap on bridge_name with NAT out (seed 002); none: no network device. */
  network: v.optional(v.picklist(["isolated", "none"]), "isolated"),
  bridge_name: v.optional(v.pipe(v.string(), v.regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,14}$/, "a network interface name of 1-15 characters")), "shed-br0"),
  /** The bridge's address and prefix: the guests' gateway; guests get the other addresses. */
  bridge_cidr: v.optional(v.pipe(v.string(), v.regex(/^\d+\.\d+\.\d+\.\d+\/\d+$/, "an address and prefix such as 172.30.0.1/24")), "172.30.0.1/24"),
  /** The 9P server for host directories (--local-dir, --add-dir, config mounts), one per shed on the bridge. */
  diod_binary: v.optional(v.string(), "diod"),
  /** Run Firecracker under its jailer (chroot per shed, uid/gid, cgroup limits); default: on when the server runs as root and jailer_binary is found. */
  jailer: v.optional(v.boolean()),
  jailer_binary: v.optional(v.string(), "jailer"),
  /** The jailer's --chroot-base-dir: each shed's jail is <chroot_base_dir>/firecracker/<id>/root. */
  chroot_base_dir: v.optional(v.pipe(v.string(), v.regex(/^\//, "an absolute path")), "/srv/jailer"),
  /** Who Firecracker runs as in its jail (default nobody:nogroup). */
  jailer_uid: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 65534),
  jailer_gid: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 65534),
  /** The jailer's --cgroup-version; default: 2 where /sys/fs/cgroup is cgroup2, else 1. */
  cgroup_version: v.optional(v.picklist([1, 2])),
  /** The jailer's --parent-cgroup (default: its own, the exec file's name). */
  parent_cgroup: v.optional(v.pipe(v.string(), v.regex(/^(?!\/)(?!.*(^|\/)\.\.?(\/|$))/, "a relative path without . or .."))),
  /** Kernel arguments after shed's own. */
  boot_args: v.optional(v.string()),
});
export type FirecrackerSection = v.InferOutput<typeof FirecrackerSectionSchema>;
