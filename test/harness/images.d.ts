/**
 * Images for tests, made here (there is no Docker Hub): a busybox-only image (no glibc,
 * no bash) and a Debian one made with debootstrap (bash, tmux, git, sudo, sftp-server).
 * Built once per machine and kept in dockerd; a lock dir keeps parallel runs from racing.
 */
export declare const TEST_IMAGES: {
    readonly busybox: "shed-test/busybox:1";
    readonly debian: "shed-test/debian:bookworm-1";
};
export type TestImage = keyof typeof TEST_IMAGES;
export declare function ensureTestImage(kind: TestImage): Promise<string>;
/** A rootfs with only busybox-static: no libc, no bash. */
export declare function busyboxRootfsTar(): string;
