import { describe, expect, it } from "vitest";
import { tar } from "../../test/oci/tar-builder.ts";
import { readTar } from "./reader.ts";
import { tarStream } from "./writer.ts";

function chunked(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let off = 0;
  return new ReadableStream({
    pull(c) {
      if (off >= bytes.byteLength) return c.close();
      c.enqueue(bytes.slice(off, off + size));
      off += size;
    },
  });
}

async function text(body: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Uint8Array[] = [];
  for await (const c of body) parts.push(c);
  return Buffer.concat(parts).toString();
}

describe("readTar", () => {
  const archive = tar([
    { name: "./blobs/", mode: 0o755 },
    { name: "./blobs/a", data: "A".repeat(3000) },
    { name: "skipped", data: "S".repeat(700) },
    { name: "half", data: "H".repeat(5000) },
    { name: "link", type: "symlink", linkname: "blobs/a" },
    { name: "last", data: "end" },
  ]);

  it("gives entries in order with their bodies, whatever the chunking, skipping what is not read", async () => {
    for (const size of [1, 100, 512, 4096, archive.byteLength]) {
      const seen: string[] = [];
      for await (const e of readTar(chunked(archive, size))) {
        seen.push(`${e.type}:${e.name}:${e.size}`);
        if (e.name === "blobs/a") expect(await text(e.body())).toBe("A".repeat(3000));
        if (e.name === "half") {
          // Read one chunk, then leave the rest: the reader skips it.
          for await (const _ of e.body()) break;
        }
        if (e.name === "link") expect(e.linkname).toBe("blobs/a");
        if (e.name === "last") expect(await text(e.body())).toBe("end");
      }
      expect(seen).toEqual(["dir:blobs/:0", "file:blobs/a:3000", "file:skipped:700", "file:half:5000", "symlink:link:0", "file:last:3"]);
    }
  });

  it("reads what the writer writes", async () => {
    const stream = tarStream([
      { name: "d", type: "dir" },
      { name: `d/${"n".repeat(150)}`, type: "file", data: new TextEncoder().encode("long name") },
    ]);
    const got: [string, string][] = [];
    for await (const e of readTar(stream)) got.push([e.name, e.type === "file" ? await text(e.body()) : ""]);
    expect(got).toEqual([
      ["d/", ""],
      [`d/${"n".repeat(150)}`, "long name"],
    ]);
  });

  it("refuses a truncated or corrupt archive with INVALID_REQUEST", async () => {
    const drain = async (bytes: Uint8Array) => {
      for await (const e of readTar(chunked(bytes, 256))) await text(e.body());
    };
    await expect(drain(archive.subarray(0, 2000))).rejects.toMatchObject({ code: "INVALID_REQUEST", message: /middle of an entry/ });
    await expect(drain(tar([{ name: "x", data: "1" }], { corruptChecksumOf: "x" }))).rejects.toMatchObject({
      code: "INVALID_REQUEST",
      message: /checksum/,
    });
    await expect(drain(new TextEncoder().encode("{\"not\": \"a tar\"}".padEnd(600, " ")))).rejects.toMatchObject({ code: "INVALID_REQUEST" });
  });
});
