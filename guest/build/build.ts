import { existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import { dirname, join } from "node:path";
import { removeBuildDir } from "./chroot.ts";
import { type WrittenImage, fileDigest, writeOciLayout } from "./oci-layout.ts";
import { ensureOsStage } from "./os-stage.ts";
import { type Recipe, loadRecipe, rootRecipe } from "./recipe.ts";
import { BOOT_PATHS, buildShedLayer } from "./shed-layer.ts";

/** Image config labels that tell a VM backend where the boot files are. */
export const BOOT_LABELS = {
  kernel: "dev.shed.boot.kernel",
  initrd: "dev.shed.boot.initrd",
  release: "dev.shed.boot.release",
  recipe: "dev.shed.recipe",
  recipeHash: "dev.shed.recipe.hash",
} as const;

export interface BuildOptions {
  /** A recipe directory (guest/base) or a name under guest/. */
  recipe: string;
  /** Where OS stages and layouts are cached (default /var/cache/shed-build). */
  cacheDir?: string;
  /** The shed-agent binary baked into the image. */
  agentPath: string;
  /** Image ref written into the layout (default shed/<recipe>:latest). */
  ref?: string;
  say?: (line: string) => void;
  npmRegistry?: string;
}

export interface BuiltImage extends WrittenImage {
  recipe: Recipe;
  /** Both layer tars: the OS stage (cached) and the shed layer. */
  layers: string[];
}

/** Bumped when the shed layer's builder changes its output (initramfs layout, paths). */
const SHED_LAYER_VERSION = "2";

export const DEFAULT_CACHE = "/var/cache/shed-build";

/**
 * Recipe -> OCI image layout, no Docker involved: the OS stage (debootstrap/apt/npm, cached by
 * recipe hash) as layer 1, the shed layer (agent, units, kernel, initramfs) as layer 2. The
 * same recipe and agent give back the same cached layout.
 */
export async function buildImage(opts: BuildOptions): Promise<BuiltImage> {
  const say = opts.say ?? (() => {});
  const cacheDir = opts.cacheDir ?? DEFAULT_CACHE;
  const recipe = loadRecipe(opts.recipe);
  const guestDir = dirname(rootRecipe(recipe).dir);
  if (!existsSync(opts.agentPath)) {
    throw new Error(`shed-agent not found at ${opts.agentPath}: build it first (bun build.ts --only shed-agent)`);
  }
  const ref = opts.ref ?? `shed/${recipe.name}:latest`;
  const os = await ensureOsStage(recipe, { cacheDir, say, npmRegistry: opts.npmRegistry });

  const agentDigest = (await fileDigest(opts.agentPath)).slice(7, 19);
  const guestHash = hashGuestFiles(guestDir);
  const key = `${recipe.name}-${recipe.hash}-${guestHash}-${agentDigest}`;
  const layoutDir = join(cacheDir, "layouts", key);
  const shedTar = join(cacheDir, "layers", `${key}.tar`);
  if (!existsSync(join(layoutDir, "index.json")) || !existsSync(shedTar)) {
    say(`${recipe.name}: shed layer (agent, units, kernel, initramfs)`);
    mkdirSync(dirname(shedTar), { recursive: true });
    const work = `${layoutDir}.${process.pid}.work`;
    removeBuildDir(work);
    mkdirSync(work, { recursive: true });
    try {
      buildShedLayer({ recipe, os, guestDir, agentPath: opts.agentPath, workDir: work, outTar: `${shedTar}.tmp` });
      renameSync(`${shedTar}.tmp`, shedTar);
      removeBuildDir(layoutDir);
    } finally {
      removeBuildDir(work);
    }
  } else {
    say(`${recipe.name}: shed layer cached`);
  }
  const release = readFileSync(join(os.kernelDir, "version"), "utf8").trim();
  const written = await writeOciLayout({
    dir: layoutDir,
    ref,
    layers: [
      { tar: os.tar, createdBy: `shed recipe ${recipe.name} (${recipe.hash}): system` },
      { tar: shedTar, createdBy: `shed recipe ${recipe.name}: shed-agent, units, kernel ${release}, initramfs` },
    ],
    labels: {
      [BOOT_LABELS.kernel]: BOOT_PATHS.kernel,
      [BOOT_LABELS.initrd]: BOOT_PATHS.initrd,
      [BOOT_LABELS.release]: release,
      [BOOT_LABELS.recipe]: recipe.name,
      [BOOT_LABELS.recipeHash]: recipe.hash,
      "org.opencontainers.image.description": recipe.description,
    },
  });
  say(`${recipe.name}: ${ref} ${written.manifestDigest}`);
  return { ...written, recipe, layers: [os.tar, shedTar] };
}

/** Short hash of the files of guest/ the shed layer takes (init, units, README). */
function hashGuestFiles(guestDir: string): string {
  const h = new Bun.CryptoHasher("sha256");
  for (const f of [
    "init/init",
    "init/modules.txt",
    "systemd/agent-start",
    "systemd/firstboot",
    "systemd/hostkeys",
    "systemd/shed-hostkeys.service",
    "systemd/shed-agent.service",
    "systemd/shed-firstboot.service",
    "systemd/mss-clamp",
    "systemd/shed-mss-clamp.service",
    "systemd/80-shed.network",
    "systemd/80-shed.link",
    "README.md",
  ]) {
    h.update(f);
    h.update(readFileSync(join(guestDir, f)));
  }
  h.update(SHED_LAYER_VERSION);
  return h.digest("hex").slice(0, 12);
}
