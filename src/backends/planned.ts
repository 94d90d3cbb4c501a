import { CommonSectionSchema } from "./config-section.ts";
import { defineBackend } from "./definition.ts";

/**
 * Backends shed knows of but this build does not have yet: named in /api/info with why, and
 * their server.yaml sections accepted. Each one's folder replaces its entry in registry.ts.
 */
export const firecrackerPlanned = defineBackend({
  name: "firecracker",
  section: CommonSectionSchema,
  detect: { linux: 1 },
  runsOn: { platforms: ["linux"], says: "Linux with KVM" },
});
