/** Runs a shell command on the host; throws with its stderr tail when it fails. */
export declare function sh(cmd: string, opts?: {
    log?: string;
    env?: Record<string, string>;
}): string;
export declare const CHROOT_ENV: {
    PATH: string;
    DEBIAN_FRONTEND: string;
    LANG: string;
    HOME: string;
};
/**
 * Gives `fn` a chroot it can run apt, npm and setup scripts in: its own proc and a private
 * /dev (a tmpfs with a few nodes, never the host's), the host's DNS, and no service starts.
 * Everything is undone afterwards, also when `fn` throws.
 */
export declare function withChroot<T>(root: string, fn: (run: (cmd: string) => void) => Promise<T> | T, log?: string): Promise<T>;
/** Removes a build directory, refusing when anything is still mounted below it. */
export declare function removeBuildDir(dir: string): void;
export declare function q(s: string): string;
export declare function unlinkQuiet(path: string): void;
