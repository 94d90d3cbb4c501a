import { createHash } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { FlattenOptions } from "../../src/oci/rootfs/flatten.ts";
import { flattenLayers, LayerError } from "../../src/oci/rootfs/index.ts";
import { runId } from "../harness/index.ts";
import { useTempDirs } from "../harness/temp-dir.ts";
import { gzip, layer, type TarSpec, tar } from "./tar-builder.ts";

/**
 * The hostile corpus: layers built to write, link or delete outside the image root. Each is
 * applied into `<sandbox>/root` next to `<sandbox>/outside` (holding a sentinel file); after
 * each one, the sandbox outside `root/` must be byte-for-byte what it was, and no absolute
 * host path a layer named may exist. Unsafe layers are refused with LayerError naming the
 * layer digest and the entry; paths through symlinks are confined (resolved inside the root,
 * as the container would see them), or refused under `symlinks: "refuse"`.
 */
const tempDir = useTempDirs();
const HOST_PROBE = `/tmp/shed-hostile-${runId}`;
afterAll(() => rmSync(HOST_PROBE, { recursive: true, force: true }));

interface Case {
  name: string;
  layers: TarSpec[][];
  opts?: FlattenOptions;
  /** Refused: the entry the error must name (and the index of the layer it is in). */
  refused?: { entry: string; layer?: number; reason?: RegExp };
  /** Applied (confined): checks on the root. */
  confined?: (root: string, outside: string) => void;
}

const digestOf = (i: number) => `sha256:${String(i + 1).repeat(64)}`;

function cases(outside: string): Case[] {
  return [
    { name: "a .. entry", layers: [[{ name: "../evil", data: "x" }]], refused: { entry: "../evil", reason: /"\.\."/ } },
    { name: "a .. hidden mid-path", layers: [[{ name: "a/b/../../../evil", data: "x" }]], refused: { entry: "a/b/../../../evil" } },
    { name: "an absolute path", layers: [[{ name: `${outside}/abs`, data: "x" }]], refused: { entry: `${outside}/abs`, reason: /absolute/ } },
    {
      name: "a PAX path overriding a harmless header name",
      layers: [[{ name: "harmless", pax: { path: "../../pax-evil" }, data: "x" }]],
      refused: { entry: "../../pax-evil" },
    },
    {
      name: "a GNU long name with ..",
      layers: [[{ name: `${"d/".repeat(60)}${"../".repeat(70)}long-evil`, gnuLongName: true, data: "x" }]],
      refused: { entry: `${"d/".repeat(60)}${"../".repeat(70)}long-evil` },
    },
    {
      name: "a file through a symlink to an absolute host path (same layer)",
      layers: [
        [
          { name: "lnk", type: "symlink", linkname: outside },
          { name: "lnk/pwned", data: "x" },
        ],
      ],
      confined: (root) => expect(readFileSync(join(root, outside, "pwned"), "utf8")).toBe("x"),
    },
    {
      name: "the same, under symlinks: refuse",
      layers: [
        [
          { name: "lnk", type: "symlink", linkname: outside },
          { name: "lnk/pwned", data: "x" },
        ],
      ],
      opts: { symlinks: "refuse" },
      refused: { entry: "lnk/pwned", reason: /symlink \/lnk ->/ },
    },
    {
      name: "a file through a relative ../.. symlink made by an earlier layer",
      layers: [[{ name: "lnk", type: "symlink", linkname: "../outside" }], [{ name: "lnk/pwned", data: "x" }]],
      confined: (root) => expect(readFileSync(join(root, "outside/pwned"), "utf8")).toBe("x"),
    },
    {
      name: "an earlier layer's symlink, refused in layer 2",
      layers: [[{ name: "lnk", type: "symlink", linkname: outside }], [{ name: "lnk/pwned", data: "x" }]],
      opts: { symlinks: "refuse" },
      refused: { entry: "lnk/pwned", layer: 1 },
    },
    {
      name: "a directory replaced by a symlink mid-layer",
      layers: [
        [
          { name: "d/", type: "dir" },
          { name: "d/ok", data: "ok" },
          { name: "d", type: "symlink", linkname: outside },
          { name: "d/pwned", data: "x" },
        ],
      ],
      confined: (root) => {
        expect(readlinkSync(join(root, "d"))).toBe(outside);
        expect(readFileSync(join(root, outside, "pwned"), "utf8")).toBe("x");
      },
    },
    {
      name: "a symlink chain climbing past / (/../../..)",
      layers: [
        [
          { name: "up", type: "symlink", linkname: "/../../../.." },
          { name: "up2", type: "symlink", linkname: "up/../up" },
          { name: `up2${HOST_PROBE}/pwned`, data: "x" },
        ],
      ],
      confined: (root) => expect(existsSync(join(root, HOST_PROBE, "pwned"))).toBe(true),
    },
    {
      name: "a symlink loop",
      layers: [
        [
          { name: "a", type: "symlink", linkname: "b" },
          { name: "b", type: "symlink", linkname: "a" },
          { name: "a/x", data: "x" },
        ],
      ],
      refused: { entry: "a/x", reason: /too many levels/ },
    },
    {
      name: "overwriting a symlink to a host file (duplicate entry)",
      layers: [
        [
          { name: "f", type: "symlink", linkname: `${outside}/sentinel` },
          { name: "f", data: "overwritten" },
        ],
      ],
      confined: (root) => {
        expect(lstatSync(join(root, "f")).isFile()).toBe(true);
        expect(readFileSync(join(root, "f"), "utf8")).toBe("overwritten");
      },
    },
    {
      name: "overwriting a symlink from an earlier layer",
      layers: [[{ name: "f", type: "symlink", linkname: "../outside/sentinel" }], [{ name: "f", data: "overwritten" }]],
      confined: (root) => expect(readFileSync(join(root, "f"), "utf8")).toBe("overwritten"),
    },
    {
      name: "a duplicate regular file: the last one wins",
      layers: [
        [
          { name: "dup", data: "one" },
          { name: "dup", data: "two", mode: 0o600 },
        ],
      ],
      confined: (root) => {
        expect(readFileSync(join(root, "dup"), "utf8")).toBe("two");
        expect(lstatSync(join(root, "dup")).mode & 0o777).toBe(0o600);
      },
    },
    {
      name: "writing through a hardlink (duplicate entry)",
      layers: [
        [
          { name: "a", data: "original" },
          { name: "b", type: "hardlink", linkname: "a" },
          { name: "b", data: "changed" },
        ],
      ],
      confined: (root) => {
        expect(readFileSync(join(root, "a"), "utf8")).toBe("original");
        expect(readFileSync(join(root, "b"), "utf8")).toBe("changed");
      },
    },
    { name: "a hardlink to ../", layers: [[{ name: "h", type: "hardlink", linkname: "../outside/sentinel" }]], refused: { entry: "h", reason: /"\.\."/ } },
    {
      name: "a hardlink to an absolute host path",
      layers: [[{ name: "h", type: "hardlink", linkname: `${outside}/sentinel` }]],
      refused: { entry: "h", reason: /absolute/ },
    },
    {
      name: "a hardlink through a symlink to the host",
      layers: [
        [
          { name: "lnk", type: "symlink", linkname: outside },
          { name: "h", type: "hardlink", linkname: "lnk/sentinel" },
        ],
      ],
      refused: { entry: "h", reason: /does not exist in the image/ },
    },
    {
      name: "a hardlink to a directory",
      layers: [[{ name: "d/", type: "dir" }, { name: "h", type: "hardlink", linkname: "d" }]],
      refused: { entry: "h", reason: /is a directory/ },
    },
    { name: "a whiteout with ..", layers: [[{ name: "../.wh.outside" }]], refused: { entry: "../.wh.outside" } },
    { name: "a whiteout of ..", layers: [[{ name: "etc/.wh.." }]], refused: { entry: "etc/.wh..", reason: /names no file/ } },
    {
      name: "a whiteout through a symlink to the host",
      layers: [[{ name: "lnk", type: "symlink", linkname: outside }], [{ name: "lnk/.wh.sentinel" }]],
      confined: (root) => expect(lstatSync(join(root, "lnk")).isSymbolicLink()).toBe(true),
    },
    {
      name: "an opaque whiteout through a symlink to the host",
      layers: [[{ name: "lnk", type: "symlink", linkname: outside }], [{ name: "lnk/.wh..wh..opq" }]],
      confined: (root) => expect(lstatSync(join(root, outside)).isDirectory()).toBe(true),
    },
    {
      name: "a whiteout through an escaping relative symlink",
      layers: [[{ name: "lnk", type: "symlink", linkname: ".." }], [{ name: "lnk/outside/.wh.sentinel" }]],
      confined: () => {},
    },
    { name: "a device node where devices are refused", layers: [[{ name: "sda", type: "block", devmajor: 8, devminor: 0 }]], opts: { devices: "refuse" }, refused: { entry: "sda", reason: /device nodes are not allowed/ } },
    {
      name: "a device node where devices are skipped",
      layers: [[{ name: "dev/mem", type: "char", devmajor: 1, devminor: 1 }, { name: "dev/fifo", type: "fifo" }]],
      opts: { devices: "skip" },
      confined: (root) => {
        expect(existsSync(join(root, "dev/mem"))).toBe(false);
        expect(lstatSync(join(root, "dev/fifo")).isFIFO()).toBe(true);
      },
    },
    { name: "the root as a file", layers: [[{ name: "./", type: "file", data: "x" }]], refused: { entry: "./", reason: /root can only be a directory/ } },
    {
      name: "a file below a file",
      layers: [[{ name: "f", data: "x" }, { name: "f/g", data: "y" }]],
      refused: { entry: "f/g", reason: /not a directory/ },
    },
    { name: "a bad header checksum", layers: [[{ name: "ok", data: "1" }, { name: "bad", data: "2" }]], refused: { entry: "bad" } },
    {
      name: "a decompression bomb past the layer limit",
      layers: [[{ name: "zeros", data: new Uint8Array(4 << 20) }]],
      opts: { maxLayerBytes: 1 << 20 },
      refused: { entry: "zeros", reason: /decompresses to more than/ },
    },
  ];
}

/** Everything under `dir` except `root/`: type, mode, owner, link count, content hash. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel))) {
      const r = rel ? `${rel}/${name}` : name;
      if (r === "root") continue;
      const p = join(dir, r);
      const st = lstatSync(p);
      let what = `${st.mode.toString(8)} ${st.uid}:${st.gid} n${st.nlink} ${st.mtimeMs}`;
      if (st.isFile()) what += ` ${createHash("sha256").update(readFileSync(p)).digest("hex")}`;
      if (st.isSymbolicLink()) what += ` -> ${readlinkSync(p)}`;
      out[r] = what;
      if (st.isDirectory()) walk(r);
    }
  };
  walk("");
  return out;
}

describe("hostile layers cannot write, link or delete outside the image root", () => {
  const probe = tempDir("shed-hostile-probe");
  for (const c of cases(join(probe, "outside"))) {
    it(c.name, async () => {
      const sandbox = tempDir("shed-hostile");
      const outside = join(sandbox, "outside");
      mkdirSync(outside);
      writeFileSync(join(outside, "sentinel"), "original");
      // The case names `outside` by the probe dir's path: make it the same place.
      rmSync(join(probe, "outside"), { recursive: true, force: true });
      mkdirSync(join(probe, "outside"));
      writeFileSync(join(probe, "outside", "sentinel"), "original");
      const before = { sandbox: snapshot(sandbox), probe: snapshot(probe) };
      const root = join(sandbox, "root");

      const layers = c.layers.map((specs, i) => {
        const bytes = c.name === "a bad header checksum" ? tar(specs, { corruptChecksumOf: "bad" }) : tar(specs);
        return layer(digestOf(i), i % 2 ? bytes : gzip(bytes));
      });
      let error: unknown;
      try {
        await flattenLayers(layers, root, c.opts);
      } catch (err) {
        error = err;
      }

      if (c.refused) {
        expect(error, "the layer should have been refused").toBeInstanceOf(LayerError);
        const e = error as LayerError;
        expect(e.code).toBe("INVALID_LAYER");
        expect(e.layer).toBe(digestOf(c.refused.layer ?? 0));
        expect(e.entry).toBe(c.refused.entry);
        expect(e.message).toContain(digestOf(c.refused.layer ?? 0));
        // Long names are shortened in messages.
        expect(e.message).toContain(`"${c.refused.entry.slice(0, 250)}`);
        if (c.refused.reason) expect(e.reason).toMatch(c.refused.reason);
      } else {
        expect(error).toBeUndefined();
        c.confined?.(root, join(probe, "outside"));
      }
      expect(snapshot(sandbox), "nothing outside root/ changed").toEqual(before.sandbox);
      expect(snapshot(probe), "nothing at the absolute paths the layer named changed").toEqual(before.probe);
      expect(existsSync(HOST_PROBE), `${HOST_PROBE} must not exist`).toBe(false);
    });
  }
});
