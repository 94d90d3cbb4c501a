import * as v from "valibot";
import { backendSection } from "../config-section.ts";

/** The qemu section of server.yaml. */
export const QemuSectionSchema = backendSection({
  accel: v.optional(v.picklist(["auto", "kvm", "tcg"]), "auto"),
  binary: v.optional(v.string()),
  /** isolated: a tap on shed's bridge, NAT out, nothing of the host reachable (README); none: no NIC. */
  network: v.optional(v.picklist(["isolated", "none"]), "isolated"),
  bridge: v.optional(v.pipe(v.string(), v.regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,14}$/, "a network interface name of 1-15 characters")), "shed-br0"),
  subnet: v.optional(v.pipe(v.string(), v.regex(/^\d+\.\d+\.\d+\.\d+\/\d+$/, "an IPv4 subnet such as 172.30.0.0/24")), "172.30.0.0/24"),
  /** The unprivileged user QEMU runs as (name or uid[:gid]); default: the shares' owner, else shed-vmm. */
  run_as: v.optional(v.string()),
});
export type QemuSection = v.InferOutput<typeof QemuSectionSchema>;
