/**
 * Writes tar archives byte by byte for layer tests, including what no well-behaved tool
 * writes: `..` names, absolute names, PAX overrides, duplicate entries, bad checksums.
 */
export interface TarSpec {
    name: string;
    type?: "file" | "dir" | "symlink" | "hardlink" | "char" | "block" | "fifo" | "raw";
    /** Body for files. */
    data?: string | Uint8Array;
    linkname?: string;
    mode?: number;
    uid?: number;
    gid?: number;
    mtime?: number;
    devmajor?: number;
    devminor?: number;
    xattrs?: Record<string, string | Uint8Array>;
    /** Extra PAX records (e.g. {path: "../evil"} to override a benign header name). */
    pax?: Record<string, string>;
    /** Use a GNU long-name record for the name. */
    gnuLongName?: boolean;
    /** Type flag byte to write as is (with type "raw"). */
    flag?: string;
}
export declare function tar(entries: TarSpec[], opts?: {
    end?: boolean;
    corruptChecksumOf?: string;
}): Uint8Array;
export declare const gzip: (b: Uint8Array) => Uint8Array<ArrayBuffer>;
export declare const zstd: (b: Uint8Array) => Uint8Array<ArrayBuffer>;
/** A layer for flattenLayers from bytes (digest is a label here, not checked). */
export declare function layer(digest: string, bytes: Uint8Array): {
    digest: string;
    size: number;
    open: () => ReadableStream<Uint8Array<ArrayBufferLike>>;
};
