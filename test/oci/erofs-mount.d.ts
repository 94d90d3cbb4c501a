export declare function erofsMountUnavailable(): string | undefined;
export declare function withMountedErofs<T>(image: string, fn: (root: string) => Promise<T> | T): Promise<T>;
/** fsck.erofs --extract: every file decodes; the exit code says. */
export declare function fsckErofs(image: string): {
    ok: boolean;
    output: string;
};
