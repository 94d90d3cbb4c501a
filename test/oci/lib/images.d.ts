/**
 * Test images, made by hand as OCI image layouts (no Docker Hub here), then put into a
 * registry with skopeo. Layers are tars given as files; gzip ones are compressed here.
 */
export interface LayoutImage {
    dir: string;
    tag: string;
    manifestDigest: string;
    configDigest: string;
}
export declare function makeLayoutImage(dir: string, opts: {
    tag: string;
    layers: string[];
    gzip?: boolean;
    arch?: string;
    history?: string[];
    labels?: Record<string, string>;
}): LayoutImage;
/** An image index over images already in the layout (one per platform). */
export declare function makeLayoutIndex(dir: string, tag: string, images: {
    digest: string;
    arch: string;
    variant?: string;
}[]): string;
export declare function skopeoCopy(src: string, dst: string, extra?: string[]): Promise<void>;
/** The manifest digest skopeo sees (for an index: the index's own digest, `--raw` hash). */
export declare function skopeoDigest(ref: string, extra?: string[]): Promise<string>;
export declare function skopeoInspect(ref: string, extra?: string[]): Promise<any>;
/** A tar of `n` files of random bytes (incompressible layer content). */
export declare function randomLayerTar(dir: string, name: string, bytes: number, files?: number): string;
