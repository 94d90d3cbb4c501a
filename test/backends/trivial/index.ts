import { backendSection } from "../../../src/backends/config-section.ts";
import { defineBackend } from "../../../src/backends/definition.ts";
import { TrivialBackend } from "./backend.ts";

/** The trivial backend's definition: what a backend folder's index.ts exports. */
export const trivial = defineBackend({
  name: "trivial",
  section: backendSection({}),
  create: (ctx) => new TrivialBackend(ctx),
});
