import { defineCommand } from "citty";
import { buildImage } from "../../api/image-client.ts";
import { cli } from "../context.ts";
import { usageError } from "../main.ts";
import { buildContext } from "./build-context.ts";

export default defineCommand({
  meta: { name: "build", description: "Build an image from a Dockerfile with the server's builder, into the server's store" },
  args: {
    context: { type: "positional", description: "Build context directory", required: false, default: "." },
    file: { type: "string", alias: "f", description: "Dockerfile (default: CONTEXT/Dockerfile)" },
    tag: { type: "string", alias: "t", description: "Name for the image (name:tag)" },
    "build-arg": { type: "string", description: "KEY=VALUE for ARG (repeatable)" },
    target: { type: "string", description: "Stage to build in a multi-stage Dockerfile" },
    platform: { type: "string", description: "os/arch to build for" },
    "no-cache": { type: "boolean", description: "Build every step again" },
  },
  async run({ args }) {
    const { out } = cli();
    const buildArgs = [args["build-arg"] ?? []].flat();
    for (const a of buildArgs) if (!a.includes("=")) throw usageError(`--build-arg takes KEY=VALUE, not "${a}"`);
    const ctx = buildContext(args.context, args.file);
    const r = await buildImage(
      cli().client(),
      ctx.stream,
      {
        dockerfile: ctx.dockerfile,
        ...(args.tag ? { tag: args.tag } : {}),
        ...(args.target ? { target: args.target } : {}),
        ...(args.platform ? { platform: args.platform } : {}),
        ...(args["no-cache"] ? { no_cache: "true" as const } : {}),
        ...(buildArgs.length > 0 ? { build_arg: buildArgs } : {}),
      },
      out.progress,
    );
    await out.result(r, `Built ${r.ref ?? "an untagged image (name it with shed image tag)"}\nDigest: ${r.digest}`);
  },
});
