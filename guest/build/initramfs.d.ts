/**
 * The shed initramfs: busybox (static), guest/init/init as /init, and the few kernel modules
 * the boot chain needs (guest/init/modules.txt plus their dependencies, in load order).
 * Uncompressed: it is a few MB and the kernel unpacks it faster than it would inflate it.
 */
export declare function buildInitramfs(opts: {
    /** guest/init: holds `init` and `modules.txt`. */
    initDir: string;
    /** lib/modules/<version> of the kernel the image carries. */
    modulesDir: string;
    busybox?: string;
}): Uint8Array;
/**
 * Module files (relative to modulesDir) to insmod, dependencies first, each once. Built-in
 * modules are skipped; an unknown name is an error naming the kernel release.
 */
export declare function moduleLoadOrder(modulesDir: string, names: string[]): string[];
