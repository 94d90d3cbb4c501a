import { existsSync } from "node:fs";
import { join } from "node:path";
import { buildImage, DEFAULT_CACHE } from "../../guest/build/build.ts";
import { DIST } from "../harness/index.ts";

/**
 * The base guest image for VM tests, built once per run (and cached across runs by recipe
 * hash under SHED_IMAGE_CACHE or /var/cache/shed-build: only the first run pays debootstrap).
 * Returns an image ref servers resolve without a store: oci:<layout>:<ref>.
 */
/**
 * The time a hook that calls baseImage() gets: a cold build (debootstrap, a kernel, packing:
 * minutes on 2 busy cores) plus a TCG boot. Bounded, so a stuck build still fails.
 */
export const IMAGE_HOOK_MS = 1_500_000;

let built: Promise<{ ref: string; layout: string; name: string }> | undefined;

/** `name` is the image's ref inside the layout (a layout may hold other builds' refs too). */
export function baseImage(): Promise<{ ref: string; layout: string; name: string }> {
  built ??= (async () => {
    const image = await buildImage({
      recipe: join(import.meta.dirname, "../../guest/base"),
      agentPath: agentPath(),
      cacheDir: process.env.SHED_IMAGE_CACHE ?? DEFAULT_CACHE,
      ref: "shed/base:test",
      say: (line) => console.error(`[guest image] ${line}`),
    });
    return { ref: `oci:${image.dir}:${image.ref}`, layout: image.dir, name: image.ref };
  })();
  return built;
}

/** The agent baked into the test image: SHED_AGENT_PATH, else dist/shed-agent. */
export function agentPath(): string {
  return process.env.SHED_AGENT_PATH ?? join(DIST, "shed-agent");
}

/** Why VM tests cannot run here, or undefined. Printed once by the caller's skip. */
export function vmTestsMissing(): string | undefined {
  return missingFor("VM tests need", ["qemu-system-x86_64", "mkfs.ext4", "ssh", "sftp", "tmux"], ["shed", "shed-server", "shed-agent"]);
}

/** Why the base image cannot be built here (root, debootstrap, ...), or undefined; printed once. */
export function guestImageMissing(): string | undefined {
  return missingFor("the base guest image needs", ["git"], ["shed-agent"]);
}

/** What building the guest image needs (root, debootstrap, an x86_64 host), plus `commands` and `dist` binaries. */
function missingFor(what: string, commands: string[], dist: string[]): string | undefined {
  const lacking: string[] = [];
  if (process.getuid?.() !== 0) lacking.push("root (debootstrap builds the guest image)");
  for (const cmd of ["debootstrap", "mkfs.erofs", "skopeo", ...commands]) if (!Bun.which(cmd)) lacking.push(`\`${cmd}\``);
  for (const bin of dist) if (!existsSync(join(DIST, bin))) lacking.push(`dist/${bin} (bun build.ts)`);
  if (process.arch !== "x64") lacking.push("an x86_64 host (the recipes carry an amd64 kernel)");
  if (!lacking.length) return undefined;
  const reason = `skipped: ${what} ${lacking.join(", ")}`;
  console.warn(reason);
  return reason;
}

/**
 * The base guest image in the Docker engine (seed 004's tests run on it there too): copied
 * from its OCI layout by skopeo, once per run.
 */
let inDocker: Promise<string> | undefined;
export function baseImageInDocker(): Promise<string> {
  inDocker ??= (async () => {
    const { layout, name, ref } = await baseImage();
    const tag = `shed-test/base:${new Bun.CryptoHasher("sha256").update(ref).digest("hex").slice(0, 12)}`;
    const have = Bun.spawnSync(["docker", "image", "inspect", tag], { stdout: "ignore", stderr: "ignore" });
    if (have.exitCode !== 0) {
      const copy = Bun.spawn(["skopeo", "copy", "--quiet", `oci:${layout}:${name}`, `docker-daemon:${tag}`], { stderr: "pipe" });
      if ((await copy.exited) !== 0) throw new Error(`skopeo copy to the Docker engine failed: ${await new Response(copy.stderr).text()}`);
    }
    return tag;
  })();
  return inDocker;
}
