/**
 * Builds a guest image from a recipe into an OCI layout, without a server:
 *   bun guest/build/main.ts guest/base [--agent dist/shed-agent] [--cache DIR] [--ref REF] [--json]
 * Prints the layout directory (or a JSON summary). `make image-<recipe>` runs this and loads
 * the result into the local server's store.
 */
import { parseArgs } from "node:util";
import { DEFAULT_CACHE, buildImage } from "./build.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    agent: { type: "string", default: "dist/shed-agent" },
    cache: { type: "string", default: process.env.SHED_IMAGE_CACHE ?? DEFAULT_CACHE },
    ref: { type: "string" },
    json: { type: "boolean", default: false },
  },
});
const recipe = positionals[0];
if (!recipe) {
  console.error("usage: bun guest/build/main.ts <recipe dir, e.g. guest/base> [--agent PATH] [--cache DIR] [--ref REF]");
  process.exit(2);
}
try {
  const started = Date.now();
  const built = await buildImage({
    recipe,
    agentPath: values.agent!,
    cacheDir: values.cache!,
    ref: values.ref,
    say: (line) => console.error(line),
  });
  const summary = {
    layout: built.dir,
    ref: built.ref,
    digest: built.manifestDigest,
    recipe: built.recipe.name,
    seconds: Math.round((Date.now() - started) / 100) / 10,
  };
  console.log(values.json ? JSON.stringify(summary) : built.dir);
} catch (err) {
  console.error(`error: ${(err as Error).message}`);
  process.exit(1);
}
