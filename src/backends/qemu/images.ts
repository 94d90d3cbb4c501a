import type { Progress } from "../../api/schemas/shed.ts";

/**
 * What a VM boots from one image: its flattened root as erofs (disk 2, shared read-only by
 * every shed of the image) and the kernel + initramfs the image carries (guest/README.md).
 */
export interface BootImage {
  /** Manifest digest: identifies the image for caches and `info`. */
  digest: string;
  lower: string;
  kernel: string;
  initrd: string;
}

export interface QemuImageSource {
  prepare(ref: string, progress: Progress): Promise<BootImage>;
}

/** Where a guest image keeps its boot files, unless its config labels say otherwise. */
export const DEFAULT_BOOT = { kernel: "boot/shed/vmlinuz", initrd: "boot/shed/initrd.img" };
/** Config labels that move them. */
export const BOOT_LABELS = { kernel: "dev.shed.boot.kernel", initrd: "dev.shed.boot.initrd" };
