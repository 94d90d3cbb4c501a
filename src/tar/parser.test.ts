import { describe, expect, it } from "vitest";
import { tar } from "../../test/oci/tar-builder.ts";
import { parsePax, TarFormatError, type TarHeader, TarParser } from "./parser.ts";

function parse(bytes: Uint8Array, chunk = bytes.byteLength): { headers: TarHeader[]; bodies: string[] } {
  const headers: TarHeader[] = [];
  const bodies: string[] = [];
  let body: Buffer[] = [];
  const p = new TarParser({
    entry(h) {
      headers.push(h);
      body = [];
      return (c) => body.push(Buffer.from(c));
    },
    entryEnd() {
      bodies.push(Buffer.concat(body).toString());
    },
  });
  for (let i = 0; i < bytes.byteLength; i += chunk) p.write(bytes.subarray(i, i + chunk));
  p.end();
  return { headers, bodies };
}

const CAP = new Uint8Array([1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a]);

describe("TarParser", () => {
  const archive = tar([
    { name: "etc/", mode: 0o755, mtime: 1000 },
    { name: "etc/hosts", data: "127.0.0.1 localhost\n", uid: 1000, gid: 1001, mode: 0o4755, mtime: 1234 },
    { name: "bin/ping", data: "x".repeat(1500), xattrs: { "security.capability": CAP, "user.k": "v=1\n2" } },
    { name: "a/".repeat(60) + "deep", data: "long", gnuLongName: true },
    { name: "short", pax: { path: "p/".repeat(80) + "pax", mtime: "1700000000.5" }, data: "pax" },
    { name: "link", type: "symlink", linkname: "/etc/hosts" },
    { name: "hard", type: "hardlink", linkname: "etc/hosts" },
    { name: "dev/null", type: "char", devmajor: 1, devminor: 3, mode: 0o666 },
    { name: "dev/sda", type: "block", devmajor: 8, devminor: 0 },
    { name: "run/fifo", type: "fifo" },
  ]);

  it("reads every field, the same whatever the chunking", () => {
    const whole = parse(archive);
    for (const chunk of [1, 511, 512, 513, 4096]) {
      const again = parse(archive, chunk);
      expect(again.bodies).toEqual(whole.bodies);
      expect(again.headers.map((h) => h.name)).toEqual(whole.headers.map((h) => h.name));
    }
    const h = whole.headers;
    expect(h.map((e) => e.type)).toEqual(["dir", "file", "file", "file", "file", "symlink", "hardlink", "char", "block", "fifo"]);
    expect(h[1]).toMatchObject({ name: "etc/hosts", uid: 1000, gid: 1001, mode: 0o4755, mtime: 1234, size: 20 });
    expect(whole.bodies[1]).toBe("127.0.0.1 localhost\n");
    expect(whole.bodies[2]).toBe("x".repeat(1500));
    expect([...h[2]!.xattrs.get("security.capability")!]).toEqual([...CAP]);
    expect(Buffer.from(h[2]!.xattrs.get("user.k")!).toString()).toBe("v=1\n2");
    expect(h[3]!.name).toBe(`${"a/".repeat(60)}deep`);
    expect(h[4]).toMatchObject({ name: `${"p/".repeat(80)}pax`, mtime: 1700000000.5 });
    expect(h[5]).toMatchObject({ linkname: "/etc/hosts", size: 0 });
    expect(h[6]).toMatchObject({ linkname: "etc/hosts" });
    expect(h[7]).toMatchObject({ devmajor: 1, devminor: 3, mode: 0o666 });
    expect(h[8]).toMatchObject({ devmajor: 8, devminor: 0 });
  });

  it("refuses a bad checksum, a truncated archive and unknown entry types", () => {
    expect(() => parse(tar([{ name: "x", data: "1" }], { corruptChecksumOf: "x" }))).toThrow(/checksum/);
    const whole = tar([{ name: "x", data: "y".repeat(2000) }]);
    expect(() => parse(whole.subarray(0, 1200))).toThrow(TarFormatError);
    expect(() => parse(tar([{ name: "s", type: "raw", flag: "S" }]))).toThrow(/sparse/);
    expect(() => parse(tar([{ name: "q", type: "raw", flag: "Q" }]))).toThrow(/unknown tar entry type/);
  });

  it("ends at the end-of-archive marker or at a clean entry boundary", () => {
    expect(parse(tar([{ name: "x", data: "1" }], { end: false })).headers).toHaveLength(1);
    const withTrailer = Buffer.concat([tar([{ name: "x", data: "1" }]), Buffer.alloc(9000, 7)]);
    expect(parse(withTrailer).headers).toHaveLength(1);
  });

  it("parses PAX records with binary values and refuses malformed ones", () => {
    const rec = parsePax(Buffer.concat([Buffer.from("8 a="), Buffer.from([0, 1, 0xff]), Buffer.from("\n11 path=ab\n")]));
    expect([...rec.get("a")!]).toEqual([0, 1, 0xff]);
    expect(Buffer.from(rec.get("path")!).toString()).toBe("ab");
    expect(() => parsePax(Buffer.from("99 path=ab\n"))).toThrow(TarFormatError);
  });

  it("caps the entry count", () => {
    const p = new TarParser({ entry: () => undefined, entryEnd() {} }, { maxEntries: 2 });
    expect(() => p.write(tar([{ name: "a" }, { name: "b" }, { name: "c" }]))).toThrow(/more than 2 entries/);
  });
});
