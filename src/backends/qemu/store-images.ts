import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { ShedError } from "../../api/errors.ts";
import type { Progress } from "../../api/schemas/shed.ts";
import { writeFileAtomic } from "../../fs/atomic-file.ts";
import { ensureRootfs, readImageFile, type RootfsStore } from "../../oci/rootfs/index.ts";
import type { Digest } from "../../oci/spec/digest.ts";
import { type ContentStore, isLayoutRef, resolveLayoutRef, type StoredImage } from "../../oci/store/index.ts";
import { BOOT_LABELS, type BootImage, DEFAULT_BOOT, type QemuImageSource } from "./images.ts";

/** A kernel or initramfs larger than this is not one. */
const BOOT_FILE_MAX_BYTES = 512 << 20;

export interface StoreBootImagesDeps {
  stateDir: string;
  store: () => RootfsStore & Pick<ContentStore, "blobPath" | "hasBlob" | "putBlob" | "putManifest" | "tag">;
  /** The image per the backend's pull_policy (pulled when missing). */
  ensure: (ref: string, progress: Progress) => Promise<StoredImage>;
}

/**
 * Boot images from the server's image store: the root is the OCI module's erofs (safe
 * flattening, cached per manifest digest, uncompressed because a TCG guest pays for every
 * decompression), kernel and initramfs read out of the top-most layer that has them. A ref
 * `oci:/path/to/layout:tag` (a guest image guest/build just wrote) is copied into the store
 * first, so it takes the same checked path.
 */
export class StoreBootImages implements QemuImageSource {
  constructor(private readonly deps: StoreBootImagesDeps) {}

  async prepare(ref: string, progress: Progress): Promise<BootImage> {
    const image = isLayoutRef(ref) ? await this.importLayout(ref, progress) : await this.deps.ensure(ref, progress);
    progress({ id: "rootfs", status: "making the erofs image root" });
    const root = await ensureRootfs(this.deps.store(), image.manifestDigest, { stateDir: this.deps.stateDir, compression: "none", progress });
    const labels = image.config.config?.Labels ?? {};
    const dir = join(this.deps.stateDir, "qemu", "boot", image.manifestDigest.replace(":", "-"));
    const kernel = join(dir, "vmlinuz");
    const initrd = join(dir, "initrd.img");
    if (!existsSync(kernel) || !existsSync(initrd)) {
      mkdirSync(dir, { recursive: true });
      for (const [file, path] of [
        [kernel, labels[BOOT_LABELS.kernel] ?? `/${DEFAULT_BOOT.kernel}`],
        [initrd, labels[BOOT_LABELS.initrd] ?? `/${DEFAULT_BOOT.initrd}`],
      ] as const) {
        const bytes = await this.fromLayers(image, path);
        if (!bytes) {
          throw new ShedError(
            "INVALID_REQUEST",
            `image "${ref}" carries no ${path}, so it cannot boot as a VM; build a guest image (make image-base) or use the docker backend`,
          );
        }
        writeFileAtomic(file, bytes);
      }
    }
    progress({ id: "rootfs", status: "ready" });
    return { digest: image.manifestDigest, lower: root.path, kernel, initrd };
  }

  /** The layout's image into the store (blobs hard-linked where they can be, each checked), tagged so prune keeps it. */
  private async importLayout(ref: string, progress: Progress): Promise<StoredImage> {
    const { layout, image, dir, name } = await resolveLayoutRef(ref);
    const store = this.deps.store();
    if (!store.hasBlob(image.manifestDigest)) {
      progress({ id: "image", status: `copying ${ref} into the image store` });
      for (const b of [image.manifest.config, ...image.layers]) {
        const digest = b.digest as Digest;
        if (!store.hasBlob(digest)) await store.putBlob({ path: layout.blobPath(digest) }, { digest, size: b.size });
      }
      await store.putManifest(await layout.readBlob(image.manifestDigest, image.manifestSize), image.manifestMediaType);
    }
    const id = new Bun.CryptoHasher("sha256").update(`${dir}\n${name ?? ""}`).digest("hex").slice(0, 12);
    await store.tag(`oci-layout/${id}:latest`, image.manifestDigest, { origin: "load" });
    return store.resolve(image.manifestDigest);
  }

  /** A regular file of the image as its root has it (a file deleted by a higher layer is not found). */
  private fromLayers(image: StoredImage, path: string): Promise<Uint8Array | undefined> {
    const store = this.deps.store();
    const layers = image.layers.map((l) => ({ digest: l.digest, size: l.size, open: () => store.openBlob(l.digest as Digest) }));
    return readImageFile(layers, path, BOOT_FILE_MAX_BYTES);
  }
}
