import { TarParser } from "../../tar/parser.ts";
import { layerTarBytes } from "./decompress.ts";
import { LayerError } from "./layer-error.ts";
import { splitEntryName, UnsafeEntry } from "./safe-tree.ts";
import type { LayerInput } from "./flatten.ts";

const WHITEOUT = ".wh.";
const OPAQUE = ".wh..wh..opq";

/**
 * One regular file of an image, as the flattened root would have it, without flattening:
 * layers are read top-down and the first layer that holds the path gives it, unless a
 * layer above deleted it (a whiteout of the file or of a directory on its way, or an opaque
 * directory). How a VM backend gets an image's kernel and initramfs. Undefined when the image
 * has no such regular file; LayerError for a malformed layer or a file over `maxBytes`.
 */
export async function readImageFile(layers: readonly LayerInput[], path: string, maxBytes: number): Promise<Uint8Array | undefined> {
  const want = splitEntryName(path.replace(/^\/+/, ""));
  const key = want.join("/");
  for (const layer of [...layers].reverse()) {
    const found = await scanLayer(layer, want, key, maxBytes);
    if (found.file) return found.file;
    if (found.hidden) return undefined;
  }
  return undefined;
}

/** What one layer says of the path: its content, or that it hides the path of the layers below. */
async function scanLayer(layer: LayerInput, want: string[], key: string, maxBytes: number): Promise<{ file?: Uint8Array; hidden: boolean }> {
  let file: Uint8Array | undefined;
  let hidden = false;
  let parts: Uint8Array[] = [];
  let size = 0;
  let matching = false;
  let current = "";
  const parser = new TarParser({
    entry(h) {
      current = h.name;
      let name: string[];
      try {
        name = splitEntryName(h.name);
      } catch (err) {
        if (err instanceof UnsafeEntry) throw new LayerError(layer.digest, h.name, err.reason);
        throw err;
      }
      const base = name.at(-1) ?? "";
      const dir = name.slice(0, -1);
      if (base === OPAQUE) {
        // An opaque directory hides everything below it in lower layers.
        if (isPrefix(dir, want) && dir.length < want.length) hidden = true;
        return undefined;
      }
      if (base.startsWith(WHITEOUT)) {
        const gone = [...dir, base.slice(WHITEOUT.length)];
        if (isPrefix(gone, want)) hidden = true;
        return undefined;
      }
      const joined = name.join("/");
      if (joined !== key) {
        // A non-directory on the way to the path replaces the directory of lower layers.
        if (h.type !== "dir" && isPrefix(name, want)) hidden = true;
        return undefined;
      }
      if (h.type !== "file") {
        hidden = true;
        file = undefined;
        return undefined;
      }
      if (h.size > maxBytes) throw new LayerError(layer.digest, h.name, `${key} is ${h.size} bytes, more than the ${maxBytes} expected`);
      parts = [];
      size = 0;
      matching = true;
      return (chunk) => {
        parts.push(chunk.slice());
        size += chunk.byteLength;
      };
    },
    entryEnd() {
      // The last entry of a name in a layer wins, as when the layer is applied.
      if (matching) file = Buffer.concat(parts, size);
      matching = false;
      parts = [];
    },
  });
  try {
    for await (const chunk of layerTarBytes(await layer.open(), { maxBytes: Number.MAX_SAFE_INTEGER })) parser.write(chunk);
    parser.end();
  } catch (err) {
    if (err instanceof LayerError) throw err;
    throw new LayerError(layer.digest, current, (err as Error).message, { cause: err });
  }
  return { file, hidden: hidden && !file };
}

function isPrefix(prefix: string[], path: string[]): boolean {
  return prefix.length <= path.length && prefix.every((p, i) => p === path[i]);
}
