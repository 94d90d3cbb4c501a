import { ShedError } from "../../api/errors.ts";
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
