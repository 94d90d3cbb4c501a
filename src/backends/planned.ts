import { CommonSectionSchema } from "./config-section.ts";
import { defineBackend } from "./definition.ts";

/**
 * Backends shed knows of but this build does not have yet: named in /api/info with why, and
 * their server.yaml sections accepted. Each one's folder replaces its entry in registry.ts.
 */
export const vzPlanned = defineBackend({
  name: "vz",
  section: CommonSectionSchema,
  detect: { darwin: 1 },
  runsOn: { platforms: ["darwin"], says: "macOS (Apple Silicon)" },
});
