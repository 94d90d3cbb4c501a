import { ShedError } from "../../api/errors.ts";
import type { Progress } from "../../api/schemas/shed.ts";
import type { Digest } from "../spec/digest.ts";
import type { StoredImage } from "./index.ts";
import type { ContentStore } from "./index.ts";
import { openLayout } from "./layout.ts";

/** Images given as an OCI image layout on disk, in skopeo's syntax: `oci:/path/to/layout[:name]`. */
export function isLayoutRef(ref: string): boolean {
  return ref.startsWith("oci:");
}

/**
 * The layout of an `oci:` ref and the image in it: the one named, or the only one when the ref
 * names none. Read through the store's checked code (what guest/build writes, what skopeo writes).
 */
export async function resolveLayoutRef(ref: string): Promise<{ layout: ContentStore; image: StoredImage; dir: string; name?: string }> {
  const spec = ref.slice("oci:".length);
  // The directory is an absolute path; the name, if any, follows its first colon (as skopeo).
  const colon = spec.indexOf(":");
  const dir = colon >= 0 ? spec.slice(0, colon) : spec;
  const name = colon >= 0 ? spec.slice(colon + 1) : undefined;
  if (!dir.startsWith("/")) throw new ShedError("INVALID_REQUEST", `image "${ref}": the layout must be an absolute path (oci:/path/to/layout[:name])`);
  const layout = openLayout(dir, ref);
  if (name) {
    const image = await layout.tryResolve(name);
    if (!image) throw new ShedError("IMAGE_NOT_FOUND", `image "${ref}": no ref ${name} in the layout ${dir}`);
    return { layout, image, dir, name };
  }
  const digests = [...new Set(layout.list().map((e) => e.digest))];
  if (digests.length !== 1) {
    throw new ShedError("IMAGE_NOT_FOUND", `image "${ref}": the layout ${dir} holds ${digests.length} images; name one (oci:${dir}:NAME)`);
  }
  return { layout, image: await layout.resolve(digests[0]!), dir };
}

/**
 * The image of an `oci:` ref copied into `store` (blobs hard-linked where they can be, each
 * checked as any put) and tagged `oci-layout/<id>:latest` so prune keeps it while it is used.
 */
export async function importLayoutRef(store: ContentStore, ref: string, progress: Progress = () => {}): Promise<StoredImage> {
  const { layout, image, dir, name } = await resolveLayoutRef(ref);
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
