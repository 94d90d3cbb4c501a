import { renameSync, rmSync } from "node:fs";
import { defineCommand } from "../../cli/command.ts";
import { IMAGE_API } from "../../api/endpoints/images.ts";
import { ShedError } from "../../api/errors.ts";
import { cli } from "../../cli/context.ts";
import { formatBytes } from "../../cli/output.ts";
import { usageError } from "../../cli/values.ts";

export default defineCommand({
  meta: {
    name: "save",
    description: "Save images from the server's store to an archive (OCI archive; --format docker for docker load)",
    examples: ["shed image save dev -o dev.tar", "shed image save dev app:1 --format docker > both.tar"],
  },
  args: {
    refs: { type: "positional", multiple: true, description: "Images to save (refs, digests or aliases)", required: true, complete: "image" },
    output: { type: "string", alias: "o", valueHint: "FILE", complete: "file", description: "Archive file to write (default: stdout, when it is not a terminal)" },
    format: { type: "string", valueHint: "FORMAT", complete: ["oci", "docker"], description: "oci (default: skopeo/oci-archive readable) or docker (docker load)", default: "oci" },
  },
  async run({ args }) {
    const { out } = cli();
    const refs = args.refs;
    const format = args.format === "docker" ? "docker" : args.format === "oci" ? "oci" : undefined;
    if (!format) throw usageError(`--format takes oci or docker, not "${args.format}"`);
    if (!args.output && (process.stdout.isTTY || out.json)) {
      throw usageError("give the archive a file with -o FILE (it is not written to a terminal or mixed with --json output)");
    }
    const { body, size } = await cli().client().call(IMAGE_API.saveImages, { query: { ref: refs, format } });
    const id = "archive";
    let written = 0;
    if (!args.output) {
      for await (const chunk of body) {
        await writeStdout(chunk);
        written += chunk.byteLength;
      }
      checkComplete(written, size);
      return;
    }
    const partial = `${args.output}.partial`;
    const sink = Bun.file(partial).writer();
    try {
      for await (const chunk of body) {
        sink.write(chunk);
        written += chunk.byteLength;
        out.progress({ id, status: "saving", current: written, ...(size ? { total: size } : {}) });
      }
      await sink.end();
      checkComplete(written, size);
      renameSync(partial, args.output);
    } catch (err) {
      await Promise.resolve(sink.end()).catch(() => {});
      rmSync(partial, { force: true });
      throw err;
    }
    await out.result({ file: args.output, refs, format, size: written }, `Saved ${refs.join(", ")} to ${args.output} (${formatBytes(written)}, ${format} archive)`);
  },
});

function checkComplete(written: number, size: number | undefined): void {
  if (size !== undefined && written !== size) {
    throw new ShedError("PROTOCOL_ERROR", `the archive stopped after ${written} of ${size} bytes; the server log says why`);
  }
}

function writeStdout(chunk: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(chunk, (err) => (err ? reject(err) : resolve())));
}
