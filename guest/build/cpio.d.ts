/**
 * A minimal writer of the "newc" cpio format the kernel unpacks as an initramfs. Written here
 * (not the cpio tool) so device nodes like /dev/console can go in without root and the
 * output is byte-for-byte reproducible (fixed mtimes and inode numbers).
 */
export type CpioEntry = {
    type: "dir";
    path: string;
    mode?: number;
} | {
    type: "file";
    path: string;
    data: Uint8Array;
    mode?: number;
} | {
    type: "symlink";
    path: string;
    target: string;
} | {
    type: "char";
    path: string;
    major: number;
    minor: number;
    mode?: number;
};
export declare function cpioArchive(entries: CpioEntry[]): Uint8Array;
