import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { debianRootfsTar } from "../../guest/docker-dev/rootfs.ts";
import { sh } from "./host.ts";

/**
 * Images for tests, made here (there is no Docker Hub): a busybox-only image (no glibc,
 * no bash) and a Debian one made with debootstrap (bash, tmux, git, sudo, sftp-server).
 * Built once per machine and kept in dockerd; a lock dir keeps parallel runs from racing.
 */
export const TEST_IMAGES = {
  busybox: "shed-test/busybox:1",
  debian: "shed-test/debian:bookworm-1",
} as const;

export type TestImage = keyof typeof TEST_IMAGES;

const CACHE = process.env.SHED_TEST_CACHE ?? "/var/cache/shed-test";

export async function ensureTestImage(kind: TestImage): Promise<string> {
  const ref = TEST_IMAGES[kind];
  if (imageExists(ref)) return ref;
  await withLock(`image-${kind}`, async () => {
    if (imageExists(ref)) return;
    const tar = kind === "busybox" ? busyboxRootfsTar() : debianRootfsTar(CACHE);
    sh(`docker import --change 'CMD ["/bin/sh"]' ${tar} ${ref} >/dev/null`);
  });
  return ref;
}

function imageExists(ref: string): boolean {
  return Bun.spawnSync(["docker", "image", "inspect", ref], { stdout: "ignore", stderr: "ignore" }).exitCode === 0;
}

/** A rootfs with only busybox-static: no libc, no bash. */
export function busyboxRootfsTar(): string {
  const dir = join(CACHE, "busybox-root");
  const tar = join(CACHE, "busybox-root.tar");
  if (existsSync(tar)) return tar;
  rmSync(dir, { recursive: true, force: true });
  for (const d of ["bin", "etc", "tmp", "root", "home/shed", "workspace", "proc", "sys", "dev"]) {
    mkdirSync(join(dir, d), { recursive: true });
  }
  sh(`cp /bin/busybox ${dir}/bin/busybox`);
  for (const applet of sh("/bin/busybox --list").split("\n").filter(Boolean)) {
    if (applet !== "busybox") symlinkSync("busybox", join(dir, "bin", applet));
  }
  writeFileSync(join(dir, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nshed:x:1000:1000:shed:/home/shed:/bin/sh\n");
  writeFileSync(join(dir, "etc/group"), "root:x:0:\nshed:x:1000:\n");
  sh(`chown 1000:1000 ${dir}/home/shed && chmod 1777 ${dir}/tmp`);
  sh(`tar -C ${dir} -cf ${tar}.tmp . && mv ${tar}.tmp ${tar}`);
  return tar;
}

async function withLock(name: string, fn: () => Promise<void>): Promise<void> {
  mkdirSync(CACHE, { recursive: true });
  const lock = join(CACHE, `${name}.lock`);
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      await Bun.sleep(500);
    }
  }
  try {
    await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
