import { defineBackend } from "../definition.ts";
import { DockerBackend } from "./backend.ts";
import { dockerDoctor } from "./doctor.ts";
import { DockerSectionSchema } from "./section.ts";

/** Sheds as containers of a Docker engine (Engine API over its socket). */
export const docker = defineBackend({
  name: "docker",
  section: DockerSectionSchema,
  detect: { linux: 3, darwin: 2 },
  create: (ctx, section) => new DockerBackend(ctx, section),
  doctor: dockerDoctor,
  template: `  # The image of \`shed create\` without --image. Built-in aliases on every backend:
  # base, devtools, default -> shed/<variant>:latest (make image-base builds shed/base:latest).
  # default_image: base
  pull_policy: missing   # missing | always | never (only refs with a registry host are pulled)
`,
});
