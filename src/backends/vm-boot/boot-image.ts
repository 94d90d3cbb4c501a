import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { ShedError } from "../../api/errors.ts";
import type { Progress } from "../../api/schemas/shed.ts";
import { writeFileAtomic } from "../../fs/atomic-file.ts";
import type { ImageSource } from "../image-source.ts";

/**
 * What a VM boots from one image: its flattened root as erofs (the lower disk, shared
 * read-only by every shed of the image) and the kernel + initramfs the image carries
 * (guest/README.md). Every VM backend boots this way; only the VMM differs.
 */
export interface BootImage {
  /** Manifest digest: identifies the image for caches and `info`. */
  digest: string;
  lower: string;
  kernel: string;
  initrd: string;
}

/** Where a guest image keeps its boot files, unless its config labels say otherwise. */
export const DEFAULT_BOOT = { kernel: "boot/shed/vmlinuz", initrd: "boot/shed/initrd.img" };
/** Config labels that move them. */
export const BOOT_LABELS = { kernel: "dev.shed.boot.kernel", initrd: "dev.shed.boot.initrd" };

/** The kernel a VMM boots: QEMU a bzImage (the default), Firecracker an uncompressed vmlinux. */
export interface KernelChoice {
  /** Path in the image. */
  path: string;
  /** Config label that moves it. */
  label: string;
  /** Its file name in the cache. */
  file: string;
  /** What to do when the image lacks it (the error's advice). */
  advice: string;
}

export const VMLINUZ: KernelChoice = {
  path: `/${DEFAULT_BOOT.kernel}`,
  label: BOOT_LABELS.kernel,
  file: "vmlinuz",
  advice: "build a guest image (make image-base) or use the docker backend",
};

/** A kernel or initramfs larger than this is not one. */
const BOOT_FILE_MAX_BYTES = 512 << 20;

/**
 * The boot image of `ref` through the backend's image source: the erofs root (compressed as
 * the server's rootfs_compression says; none by default), kernel and initramfs read out of the image as
 * its root has them (a kernel deleted by a higher layer is not found) and kept under
 * `cacheDir/<digest>/`.
 */
export async function prepareBootImage(
  images: ImageSource,
  ref: string,
  cacheDir: string,
  progress: Progress,
  /** null: the kernel comes from elsewhere (a configured path); `kernel` is then "". */
  kernelChoice: KernelChoice | null = VMLINUZ,
): Promise<BootImage> {
  const image = await images.resolve(ref, progress);
  progress({ id: "rootfs", status: "making the erofs image root" });
  const root = await images.rootfs(image, { progress });
  const labels = image.config.config?.Labels ?? {};
  const dir = join(cacheDir, image.manifestDigest.replace(":", "-"));
  const kernel = kernelChoice ? join(dir, kernelChoice.file) : "";
  const initrd = join(dir, "initrd.img");
  const wanted: [string, string, string][] = [
    ...(kernelChoice ? [[kernel, labels[kernelChoice.label] ?? kernelChoice.path, kernelChoice.advice] as [string, string, string]] : []),
    [initrd, labels[BOOT_LABELS.initrd] ?? `/${DEFAULT_BOOT.initrd}`, VMLINUZ.advice],
  ];
  for (const [file, path, advice] of wanted) {
    if (existsSync(file)) continue;
    mkdirSync(dir, { recursive: true });
    const bytes = await images.file(image, path, BOOT_FILE_MAX_BYTES);
    if (!bytes) throw new ShedError("INVALID_REQUEST", `image "${ref}" carries no ${path}, so it cannot boot as a VM here; ${advice}`);
    writeFileAtomic(file, bytes);
  }
  progress({ id: "rootfs", status: "ready" });
  return { digest: image.manifestDigest, lower: root.path, kernel, initrd };
}
