/**
 * Puts the Debian kernel package's files into `root` without dpkg's maintainer scripts (no
 * initramfs-tools run in the chroot: shed makes its own initramfs), prunes hardware-only
 * modules, runs depmod, and copies the kernel and module tree to `outDir` for the
 * initramfs builder. Returns the kernel release.
 */
export declare function installKernel(root: string, pkg: string, outDir: string, run: (cmd: string) => void, log: string): string;
