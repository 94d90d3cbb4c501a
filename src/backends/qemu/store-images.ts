import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ShedError } from "../../api/errors.ts";
import type { Progress } from "../../api/schemas/shed.ts";
import { ensureRootfs, type RootfsStore } from "../../oci/rootfs/index.ts";
import type { Digest } from "../../oci/spec/digest.ts";
import type { ContentStore, StoredImage } from "../../oci/store/index.ts";
import { readLayoutRef } from "../../oci/archive/layout-dir.ts";
import { BOOT_LABELS, type BootImage, DEFAULT_BOOT, type QemuImageSource } from "./images.ts";

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
    const image = ref.startsWith("oci:") ? await this.importLayout(ref, progress) : await this.deps.ensure(ref, progress);
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
        const bytes = this.fromLayers(image, path);
        if (!bytes) {
          throw new ShedError(
            "INVALID_REQUEST",
            `image "${ref}" carries no ${path}, so it cannot boot as a VM; build a guest image (make image-base) or use the docker backend`,
          );
        }
        writeFileSync(`${file}.tmp`, bytes);
        renameSync(`${file}.tmp`, file);
      }
    }
    progress({ id: "rootfs", status: "ready" });
    return { digest: image.manifestDigest, lower: root.path, kernel, initrd };
  }

  /** The layout's image into the store (blobs hard-linked where they can be, each checked), tagged so prune keeps it. */
  private async importLayout(ref: string, progress: Progress): Promise<StoredImage> {
    const layout = readLayoutRef(ref)!;
    const store = this.deps.store();
    if (!store.hasBlob(layout.manifestDigest)) {
      progress({ id: "image", status: `copying ${ref} into the image store` });
      for (const b of layout.blobs) {
        if (!store.hasBlob(b.digest)) await store.putBlob({ path: b.path }, { digest: b.digest, size: b.size });
      }
      await store.putManifest(layout.manifest, layout.mediaType);
    }
    const id = new Bun.CryptoHasher("sha256").update(`${layout.dir}\n${layout.name ?? ""}`).digest("hex").slice(0, 12);
    await store.tag(`oci-layout/${id}:latest`, layout.manifestDigest, { origin: "load" });
    return store.resolve(layout.manifestDigest);
  }

  /** A regular file of the image, from the top-most layer that holds it (tar reads gzip too). */
  private fromLayers(image: StoredImage, path: string): Uint8Array | undefined {
    const member = path.replace(/^\/+/, "");
    for (const layer of [...image.layers].reverse()) {
      const file = this.deps.store().blobPath(layer.digest as Digest);
      for (const name of [member, `./${member}`]) {
        const p = Bun.spawnSync(["tar", "-xOf", file, name], { stdout: "pipe", stderr: "ignore" });
        if (p.exitCode === 0 && p.stdout.byteLength > 0) return p.stdout;
      }
    }
    return undefined;
  }
}
