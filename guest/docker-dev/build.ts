/**
 * Builds the Debian dev image into dockerd: `bun guest/docker-dev/build.ts [tag]`
 * (default shed/dev:bookworm). Used by `make image-dev` and the quickstart.
 */
import { debianRootfsTar } from "./rootfs.ts";

const tag = process.argv[2] ?? "shed/dev:bookworm";
const cache = process.env.SHED_IMAGE_CACHE ?? "/var/cache/shed-build";
const exists = Bun.spawnSync(["docker", "image", "inspect", tag], { stdout: "ignore", stderr: "ignore" });
if (exists.exitCode === 0) {
  console.log(`${tag} already in the Docker engine`);
} else {
  console.log(`building ${tag} with debootstrap (about a minute)...`);
  const tar = debianRootfsTar(cache);
  const imp = Bun.spawnSync(["docker", "import", "--change", 'CMD ["/bin/bash"]', tar, tag], { stderr: "inherit" });
  if (imp.exitCode !== 0) process.exit(1);
  console.log(`${tag} ready`);
}
