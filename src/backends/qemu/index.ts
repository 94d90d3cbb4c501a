import { defineBackend } from "../definition.ts";
import { QemuBackend } from "./backend.ts";
import { qemuDoctor } from "./doctor.ts";
import { QemuSectionSchema } from "./section.ts";

/** Sheds as QEMU VMs (KVM when a kernel really boots under it, else TCG). */
export const qemu = defineBackend({
  name: "qemu",
  section: QemuSectionSchema,
  detect: { linux: 2 },
  create: (ctx, section) => new QemuBackend(ctx, section),
  doctor: qemuDoctor,
  template: `  # auto: KVM when a Linux kernel boots under it, else TCG (slow); kvm: KVM or fail; tcg.
  accel: auto
  # default_image: base
`,
});
