import { describe, expect, it } from "vitest";
import { gzip, layer, tar, type TarSpec } from "../../../test/oci/tar-builder.ts";
import { readImageFile } from "./image-file.ts";

const KERNEL = "boot/shed/vmlinuz";
const layers = (...specs: TarSpec[][]) => specs.map((s, i) => layer(`sha256:${String(i).repeat(64)}`, gzip(tar(s))));
const read = async (ls: ReturnType<typeof layers>, path = `/${KERNEL}`) => {
  const bytes = await readImageFile(ls, path, 1 << 20);
  return bytes && Buffer.from(bytes).toString();
};

describe("readImageFile", () => {
  const base = [{ name: "boot/" }, { name: "boot/shed/" }, { name: KERNEL, data: "k1" }];

  it("finds the file in the top-most layer that has it", async () => {
    expect(await read(layers(base))).toBe("k1");
    expect(await read(layers(base, [{ name: "etc/motd", data: "hi" }]))).toBe("k1");
    expect(await read(layers(base, [{ name: `./${KERNEL}`, data: "k2" }]))).toBe("k2");
    // The last entry of a name in one layer wins.
    expect(await read(layers(base, [{ name: KERNEL, data: "old" }, { name: KERNEL, data: "new" }]))).toBe("new");
  });

  it("does not find a file a higher layer deleted", async () => {
    expect(await read(layers(base, [{ name: "boot/shed/.wh.vmlinuz" }]))).toBeUndefined();
    expect(await read(layers(base, [{ name: "boot/.wh.shed" }]))).toBeUndefined();
    expect(await read(layers(base, [{ name: "boot/.wh..wh..opq" }]))).toBeUndefined();
    expect(await read(layers(base, [{ name: "boot", type: "symlink", linkname: "/elsewhere" }]))).toBeUndefined();
    expect(await read(layers(base, [{ name: KERNEL, type: "symlink", linkname: "vmlinuz-6.1" }]))).toBeUndefined();
    // ...unless that layer brings its own.
    expect(await read(layers(base, [{ name: "boot/shed/.wh.vmlinuz" }, { name: KERNEL, data: "k3" }]))).toBe("k3");
    // A deletion below the file's own layer changes nothing.
    expect(await read(layers([{ name: "boot/.wh.shed" }], base))).toBe("k1");
  });

  it("is undefined for what the image does not have, and refuses what is too large", async () => {
    expect(await read(layers(base), "/boot/shed/initrd.img")).toBeUndefined();
    expect(await read(layers([{ name: "boot/shed/", type: "dir" }]), "/boot/shed")).toBeUndefined();
    await expect(readImageFile(layers([{ name: KERNEL, data: "x".repeat(2000) }]), KERNEL, 1000)).rejects.toMatchObject({
      code: "INVALID_LAYER",
      message: /more than the 1000/,
    });
  });
});
