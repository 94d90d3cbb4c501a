/**
 * Writes an image as an OCI image layout (oci-layout, index.json, blobs/sha256/...) through the
 * image store's own code: the form `shed image load` takes and any OCI tool (skopeo) reads. Layers are uncompressed tars
 * (media type ...layer.v1.tar): building stays fast and the digest is the diff id.
 */
export interface LayerInput {
    tar: string;
    /** Shown in the image history. */
    createdBy: string;
}
export interface WrittenImage {
    dir: string;
    ref: string;
    manifestDigest: string;
    configDigest: string;
}
export declare function writeOciLayout(opts: {
    dir: string;
    ref: string;
    layers: LayerInput[];
    labels: Record<string, string>;
    arch?: string;
}): Promise<WrittenImage>;
/** sha256 of a file, cached beside it in `<file>.sha256` (keyed by size and mtime). */
export declare function fileDigest(path: string): Promise<string>;
