import { defineCommand } from "../../cli/command.ts";
import { IMAGE_API } from "../../api/endpoints/images.ts";
import { cli } from "../../cli/context.ts";
import { usageError } from "../../cli/values.ts";
import { buildContext } from "./build-context.ts";
import { buildRecipe } from "./build-recipe.ts";

export default defineCommand({
  meta: {
    name: "build",
    examples: ["shed image build -t team/dev:3 .", "shed image build -f docker/Dockerfile --build-arg V=1 -t app:1 .", "shed image build --recipe guest/base -t shed/base:latest"],
    description: "Build an image into the server's store: from a Dockerfile (the server's builder) or a guest recipe (--recipe, built here)",
  },
  args: {
    context: { type: "positional", description: "Build context directory", default: ".", complete: "file" },
    file: { type: "string", alias: "f", description: "Dockerfile (default: CONTEXT/Dockerfile)" },
    tag: { type: "string", alias: "t", description: "Name for the image (name:tag)" },
    "build-arg": { type: "string", multiple: true, valueHint: "K=V", description: "A value for an ARG of the Dockerfile" },
    target: { type: "string", description: "Stage to build in a multi-stage Dockerfile" },
    platform: { type: "string", description: "os/arch to build for" },
    "no-cache": { type: "boolean", description: "Build every step again" },
    recipe: { type: "string", description: "A guest image recipe (guest/base, guest/devtools, guest/default), built on this machine" },
    agent: { type: "string", description: "--recipe: the shed-agent to bake in (default: the one beside shed)" },
  },
  async run({ args }) {
    const { out } = cli();
    if (args.recipe) {
      // debootstrap makes the host's architecture (no emulated chroot here); an arm64 image
      // (vz on Apple silicon) builds on an arm64 host: guest/README.md, "arm64 images".
      const host = `linux/${process.arch === "arm64" ? "arm64" : "amd64"}`;
      if (args.platform && args.platform !== host) {
        throw usageError(`--recipe builds for this machine's platform (${host}), not ${args.platform}: build ${args.platform} images on a ${args.platform} host (see guest/README.md, "arm64 images")`);
      }
      const r = await buildRecipe(args.recipe, { tag: args.tag, agent: args.agent, progress: out.progress });
      const image = r.images[0];
      await out.result(r, `Built ${image?.ref ?? "an image"} from ${args.recipe}\nDigest: ${image?.digest}\nLayout: ${r.layout}`);
      return;
    }
    const buildArgs = args["build-arg"];
    for (const a of buildArgs) if (!a.includes("=")) throw usageError(`--build-arg takes KEY=VALUE, not "${a}"`);
    const ctx = buildContext(args.context, args.file);
    const r = await cli().client().call(IMAGE_API.buildImage, {
      body: ctx.stream,
      query: {
        dockerfile: ctx.dockerfile,
        ...(args.tag ? { tag: args.tag } : {}),
        ...(args.target ? { target: args.target } : {}),
        ...(args.platform ? { platform: args.platform } : {}),
        ...(args["no-cache"] ? { no_cache: "true" as const } : {}),
        ...(buildArgs.length > 0 ? { build_arg: buildArgs } : {}),
      },
      onProgress: out.progress,
    });
    await out.result(r, `Built ${r.ref ?? "an untagged image (name it with shed image tag)"}\nDigest: ${r.digest}`);
  },
});
