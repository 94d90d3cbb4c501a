import { defineBackend } from "../definition.ts";
import { VzBackend } from "./backend.ts";
import { vzDoctor } from "./doctor.ts";
import { VzSectionSchema } from "./section.ts";

/** Sheds as Virtualization.framework VMs through vfkit (macOS on Apple Silicon; the default there). */
export const vz = defineBackend({
  name: "vz",
  section: VzSectionSchema,
  detect: { darwin: 1 },
  runsOn: { platforms: ["darwin"], says: "macOS (Apple Silicon)" },
  create: (ctx, section) => new VzBackend(ctx, section),
  doctor: vzDoctor,
  template: `  # vfkit_path: /opt/homebrew/bin/vfkit
  # socket_dir: a short directory for vfkit's sockets (macOS allows 104 bytes a path)
  # New uppers cloned from a formatted template (clonefile on APFS) instead of mkfs each time.
  upper_template: true
`,
});
