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
  # socket_dir: /tmp/shed-vz   (unix sockets: macOS allows 104 bytes a path)
  # default_image: base
`,
});
