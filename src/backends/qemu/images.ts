import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ShedError } from "../../api/errors.ts";
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
const LABEL_KERNEL = "dev.shed.boot.kernel";
const LABEL_INITRD = "dev.shed.boot.initrd";

/** An image as layers on disk, whatever store they come from. */
export interface ResolvedImage {
  digest: string;
  /** Layer tars (plain or gzip), bottom first. */
  layers: string[];
  labels: Record<string, string>;
}

/**
 * Makes BootImages from resolved images: layers unpacked in order (whiteouts applied), the
 * tree packed with mkfs.erofs, kernel and initramfs copied out. One directory per image
 * digest under `cacheDir`, built once (also when several sheds are created at once).
 *
 * Used for oci:/path/to/layout refs, a guest image just built here; images from the store go
 * through the OCI module (store-images.ts).
 */
export class ErofsBootImages implements QemuImageSource {
  private readonly building = new Map<string, Promise<BootImage>>();

  constructor(
    private readonly cacheDir: string,
    private readonly resolve: (ref: string) => Promise<ResolvedImage>,
  ) {}

  async prepare(ref: string, progress: Progress): Promise<BootImage> {
    const image = await this.resolve(ref);
    const dir = join(this.cacheDir, image.digest.replace(":", "-"));
    const boot: BootImage = {
      digest: image.digest,
      lower: join(dir, "rootfs.erofs"),
      kernel: join(dir, "vmlinuz"),
      initrd: join(dir, "initrd.img"),
    };
    if (existsSync(join(dir, ".complete"))) return boot;
    let pending = this.building.get(dir);
    if (!pending) {
      pending = this.build(ref, image, dir, boot, progress).finally(() => this.building.delete(dir));
      this.building.set(dir, pending);
    }
    return pending;
  }

  private async build(ref: string, image: ResolvedImage, dir: string, boot: BootImage, progress: Progress): Promise<BootImage> {
    const work = `${dir}.${process.pid}.tmp`;
    const tree = join(work, "tree");
    rmSync(work, { recursive: true, force: true });
    mkdirSync(tree, { recursive: true });
    try {
      for (const [i, layer] of image.layers.entries()) {
        progress({ id: "rootfs", status: `unpacking layer ${i + 1}/${image.layers.length}`, current: i, total: image.layers.length });
        await run(["tar", "-C", tree, "--numeric-owner", "--xattrs", "--xattrs-include=*", "-xpf", layer]);
        await applyWhiteouts(tree);
      }
      const kernel = join(tree, image.labels[LABEL_KERNEL]?.replace(/^\//, "") ?? DEFAULT_BOOT.kernel);
      const initrd = join(tree, image.labels[LABEL_INITRD]?.replace(/^\//, "") ?? DEFAULT_BOOT.initrd);
      if (!existsSync(kernel) || !existsSync(initrd)) {
        throw new ShedError(
          "INVALID_REQUEST",
          `image "${ref}" carries no kernel and initramfs at /${DEFAULT_BOOT.kernel} and /${DEFAULT_BOOT.initrd}, so it cannot boot as a VM; build a guest image (make image-base) or use the docker backend`,
        );
      }
      writeFileSync(join(work, "vmlinuz"), readFileSync(kernel));
      writeFileSync(join(work, "initrd.img"), readFileSync(initrd));
      progress({ id: "rootfs", status: "making the erofs image root" });
      // Uncompressed: under emulation (TCG) the guest pays for every decompression.
      await run(["mkfs.erofs", "--quiet", "--preserve-mtime", join(work, "rootfs.erofs"), tree]);
      rmSync(tree, { recursive: true, force: true });
      writeFileSync(join(work, ".complete"), `${image.digest}\n`);
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(join(dir, ".."), { recursive: true });
      renameSync(work, dir);
      progress({ id: "rootfs", status: "ready" });
      return boot;
    } catch (err) {
      rmSync(work, { recursive: true, force: true });
      throw err;
    }
  }
}

/** OCI whiteouts: `.wh.NAME` deletes NAME below; `.wh..wh..opq` (opaque dir) is not expected in guest images. */
async function applyWhiteouts(tree: string): Promise<void> {
  const found = Bun.spawnSync(["find", tree, "-name", ".wh.*"], { stdout: "pipe" }).stdout.toString().split("\n").filter(Boolean);
  for (const wh of found) {
    const base = wh.slice(wh.lastIndexOf("/") + 1);
    const parent = wh.slice(0, wh.lastIndexOf("/"));
    if (base !== ".wh..wh..opq") rmSync(join(parent, base.slice(4)), { recursive: true, force: true });
    rmSync(wh, { force: true });
  }
}

async function run(argv: string[]): Promise<void> {
  const p = Bun.spawn(argv, { stdout: "ignore", stderr: "pipe" });
  const [code, err] = await Promise.all([p.exited, new Response(p.stderr).text()]);
  if (code !== 0) throw new ShedError("INTERNAL", `${argv[0]} failed (exit ${code}): ${err.trim().slice(-500)}`);
}

/**
 * Images given as an OCI image layout on disk, in skopeo's syntax: `oci:/path/to/layout[:ref]`.
 * (What guest/build writes; the OCI store resolves plain refs.)
 */
export function resolveLayoutRef(ref: string): ResolvedImage | undefined {
  if (!ref.startsWith("oci:")) return undefined;
  const rest = ref.slice(4);
  const colon = rest.indexOf(":");
  const dir = colon >= 0 ? rest.slice(0, colon) : rest;
  const name = colon >= 0 ? rest.slice(colon + 1) : undefined;
  const indexFile = join(dir, "index.json");
  if (!existsSync(indexFile)) {
    throw new ShedError("IMAGE_NOT_FOUND", `no OCI image layout at ${dir} (no index.json) for image "${ref}"`);
  }
  const index = JSON.parse(readFileSync(indexFile, "utf8")) as {
    manifests: { digest: string; annotations?: Record<string, string> }[];
  };
  const entry = name
    ? index.manifests.find((m) => m.annotations?.["org.opencontainers.image.ref.name"] === name)
    : index.manifests.length === 1
      ? index.manifests[0]
      : undefined;
  if (!entry) {
    throw new ShedError("IMAGE_NOT_FOUND", `image "${ref}": no ${name ? `ref ${name}` : "single image"} in the layout ${dir}`);
  }
  const blob = (d: string) => join(dir, "blobs", "sha256", d.replace(/^sha256:/, ""));
  const manifest = JSON.parse(readFileSync(blob(entry.digest), "utf8")) as {
    config: { digest: string };
    layers: { digest: string }[];
  };
  const config = JSON.parse(readFileSync(blob(manifest.config.digest), "utf8")) as {
    config?: { Labels?: Record<string, string> };
  };
  return {
    digest: entry.digest,
    layers: manifest.layers.map((l) => blob(l.digest)),
    labels: config.config?.Labels ?? {},
  };
}
