import { existsSync } from "node:fs";
import { defineCommand } from "../../cli/command.ts";
import { IMAGE_API } from "../../api/endpoints/images.ts";
import { cli } from "../../cli/context.ts";
import { usageError } from "../../cli/values.ts";

export default defineCommand({
  meta: { name: "load", description: "Load an OCI archive or a docker save archive into the server's store", examples: ["shed image load -i dev.tar", "docker save app:1 | shed image load"] },
  args: {
    input: { type: "string", alias: "i", valueHint: "FILE", complete: "file", description: "Archive file (default: stdin, when it is not a terminal)" },
    tag: { type: "string", alias: "t", valueHint: "REF", description: "Ref to give the image (for archives of one image without a name)" },
  },
  async run({ args }) {
    const { out } = cli();
    let archive: Blob | ReadableStream<Uint8Array>;
    if (args.input) {
      if (!existsSync(args.input)) throw usageError(`no such file: ${args.input}`);
      archive = Bun.file(args.input);
    } else {
      if (process.stdin.isTTY) throw usageError("give the archive with -i FILE or on stdin");
      archive = Bun.stdin.stream();
    }
    const r = await cli().client().call(IMAGE_API.loadImage, { body: archive, query: args.tag ? { tag: args.tag } : {}, onProgress: out.progress });
    const lines = r.images.map((i) => (i.ref ? `Loaded image: ${i.ref} (${i.digest})` : `Loaded image ${i.digest} (untagged; name it with shed image tag)`));
    await out.result(r, lines.join("\n"));
  },
});
