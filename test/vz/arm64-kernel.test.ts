import { describe, expect, it } from "vitest";
import { bootableKernel, kernelPackageFor } from "../../guest/build/kernel.ts";

/**
 * VZ boots only an uncompressed arm64 `Image` (vfkit refuses a compressed one on Apple
 * silicon); Debian's arm64 vmlinuz is gzipped. The guest build gunzips it into the image's
 * /boot/shed/vmlinuz; an x86 bzImage passes untouched. No arm64 kernel is on this host, so an
 * arm64 Image's header (the "ARM\x64" magic at byte 56) stands in for its body.
 */
describe("arm64 guest kernel for VZ", () => {
  it("a gzipped arm64 Image is stored uncompressed; a bzImage as it is", () => {
    const image = new Uint8Array(4096);
    image.set([0x41, 0x52, 0x4d, 0x64], 56);
    const out = bootableKernel(Bun.gzipSync(image));
    expect(Buffer.from(out.subarray(56, 60)).toString("latin1")).toBe("ARMd");
    expect(out.length).toBe(4096);
    const bz = new Uint8Array(1024);
    bz.set([0x48, 0x64, 0x72, 0x53], 0x202); // "HdrS": an x86 boot header
    expect(bootableKernel(bz)).toBe(bz);
  });

  it("the recipes' kernel package follows the build host's architecture", () => {
    expect(kernelPackageFor("linux-image-amd64", "arm64")).toBe("linux-image-arm64");
    expect(kernelPackageFor("linux-image-amd64", "x64")).toBe("linux-image-amd64");
    expect(kernelPackageFor("linux-image-cloud-amd64", "arm64")).toBe("linux-image-cloud-arm64");
  });
});
