/**
 * A Debian development rootfs for Docker sheds, made offline-friendly with debootstrap from
 * the machine's own apt mirror (no Docker Hub needed): bash, tmux, git, sudo, sftp-server and
 * the `shed` user (uid 1000, passwordless sudo). The VM images (base/devtools/default) get
 * their own recipes; this one is what the quickstart and the Docker tests use.
 */
export declare const DEBIAN_PACKAGES: string[];
/** Returns the path of a tar of the rootfs, building it under cacheDir when missing. */
export declare function debianRootfsTar(cacheDir: string, suite?: string): string;
/** The Debian mirror this machine's apt uses (the only one reachable from here). */
export declare function aptMirror(): string;
