import { defineBackend } from "../definition.ts";
import { FirecrackerBackend } from "./backend.ts";
import { firecrackerDoctor } from "./doctor.ts";
import { FirecrackerSectionSchema } from "./section.ts";
import { firecrackerSetup } from "./setup.ts";

/** Sheds as Firecracker microVMs (Linux with KVM), configured through Firecracker's API. */
export const firecracker = defineBackend({
  name: "firecracker",
  section: FirecrackerSectionSchema,
  detect: { linux: 1 },
  runsOn: { platforms: ["linux"], says: "Linux with KVM" },
  create: (ctx, section) => new FirecrackerBackend(ctx, section),
  doctor: firecrackerDoctor,
  setup: firecrackerSetup,
  template: `  # isolated: a tap on bridge_name with NAT out (seed 002); none: no network device.
  network: isolated
  # binary: firecracker
  # kernel_path: /var/lib/shed/firecracker/vmlinux   # an uncompressed vmlinux (make kernel-fc)
  # bridge_name: shed-br0
  # bridge_cidr: 172.30.0.1/24
`,
});
