import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { aptMirror } from "../docker-dev/rootfs.ts";
import { q, removeBuildDir, sh, withChroot } from "./chroot.ts";
import { installKernel, kernelPackageFor } from "./kernel.ts";
import type { Recipe } from "./recipe.ts";

/**
 * The slow half of an image build: the operating system of a recipe (debootstrap, or the
 * parent's system plus apt), its npm CLIs and setup script, as a tar. Cached under
 * `<cache>/os/<name>-<hash>/` and reused until the recipe (or a parent) changes:
 *   rootfs.tar      the system (numeric owners, file capabilities kept)
 *   kernel/vmlinuz  the kernel the image carries; kernel/version its release
 *   kernel/modules/ lib/modules/<version> as in the image, for the initramfs builder
 */
export interface OsStage {
  dir: string;
  tar: string;
  kernelDir: string;
}

export interface StageOptions {
  cacheDir: string;
  /** Progress lines (one per step). */
  say: (line: string) => void;
  npmRegistry?: string;
}

export async function ensureOsStage(recipe: Recipe, opts: StageOptions): Promise<OsStage> {
  const dir = join(opts.cacheDir, "os", `${recipe.name}-${recipe.hash}`);
  const stage = { dir, tar: join(dir, "rootfs.tar"), kernelDir: join(dir, "kernel") };
  if (existsSync(join(dir, ".complete"))) {
    opts.say(`${recipe.name}: system cached (${recipe.hash})`);
    return stage;
  }
  const parent = recipe.parentRecipe ? await ensureOsStage(recipe.parentRecipe, opts) : undefined;
  if (process.getuid?.() !== 0) {
    throw new Error(`building the ${recipe.name} system needs root (debootstrap and chroot); run it as root`);
  }

  const work = `${dir}.${process.pid}.work`;
  removeBuildDir(work);
  const root = join(work, "root");
  const log = join(work, "build.log");
  mkdirSync(root, { recursive: true });
  try {
    if (parent) {
      opts.say(`${recipe.name}: starting from ${recipe.parentRecipe!.name}`);
      sh(`tar -C ${q(root)} --numeric-owner --xattrs --xattrs-include='*' -xpf ${q(parent.tar)}`);
      sh(`cp -a ${q(parent.kernelDir)} ${q(join(work, "kernel"))}`);
    } else {
      opts.say(`${recipe.name}: debootstrap ${recipe.suite} (${recipe.packages.length} packages, a minute or two)`);
      sh(
        `debootstrap --variant=minbase --include=${recipe.packages.join(",")} ${recipe.suite} ${q(root)} ${aptMirror()}`,
        { log },
      );
    }
    await withChroot(
      root,
      async (run) => {
        if (recipe.kernel || (parent && recipe.packages.length)) run("apt-get update -qq");
        if (parent && recipe.packages.length) {
          opts.say(`${recipe.name}: apt install ${recipe.packages.join(" ")}`);
          run(`apt-get install -y -qq --no-install-recommends ${recipe.packages.join(" ")}`);
        }
        if (recipe.kernel) {
          opts.say(`${recipe.name}: kernel ${recipe.kernel}`);
          installKernel(root, kernelPackageFor(recipe.kernel, process.arch), join(work, "kernel"), run, log);
        }
        if (recipe.npm.length) {
          opts.say(`${recipe.name}: npm install -g ${recipe.npm.join(" ")}`);
          const registry = opts.npmRegistry ? `--registry ${q(opts.npmRegistry)}` : "";
          // The build trusts what the host trusts (a proxy's CA, say), for this step only: the
          // bundle goes to /tmp, which is emptied below, so the image keeps Debian's own.
          const hostCa = process.env.NODE_EXTRA_CA_CERTS ?? "/etc/ssl/certs/ca-certificates.crt";
          let caEnv = "";
          if (existsSync(hostCa)) {
            copyFileSync(hostCa, join(root, "tmp/shed-host-ca.crt"));
            caEnv = "NODE_EXTRA_CA_CERTS=/tmp/shed-host-ca.crt ";
          }
          run(`${caEnv}npm install -g --no-audit --no-fund --loglevel=error ${registry} ${recipe.npm.join(" ")}`);
        }
        if (recipe.setup) {
          opts.say(`${recipe.name}: ${recipe.setup}`);
          sh(`install -m 0755 ${q(join(recipe.dir, recipe.setup))} ${q(join(root, "tmp/shed-setup.sh"))}`);
          run("/tmp/shed-setup.sh && rm -f /tmp/shed-setup.sh");
        }
        run("apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /root/.npm /tmp/* /var/tmp/*");
        run("rm -f /var/log/*.log /var/log/apt/* /var/cache/debconf/*-old /var/lib/dpkg/*-old");
      },
      log,
    );
    opts.say(`${recipe.name}: packing the system`);
    const top = readdirSync(root).map(q).join(" ");
    sh(`tar -C ${q(root)} --numeric-owner --xattrs --xattrs-include='security.capability' -cf ${q(join(work, "rootfs.tar"))} ${top}`);
    writeFileSync(join(work, "recipe.json"), `${JSON.stringify({ name: recipe.name, hash: recipe.hash }, null, 2)}\n`);
    removeBuildDir(root);
    writeFileSync(join(work, ".complete"), `${recipe.hash}\n`);
    removeBuildDir(dir);
    renameSync(work, dir);
    return stage;
  } catch (err) {
    // Keep the log for whoever reads the error; the half-made root goes.
    if (existsSync(log)) sh(`cp ${q(log)} ${q(`${dir}.failed.log`)}`);
    removeBuildDir(work);
    throw new Error(`building ${recipe.name} failed (log: ${dir}.failed.log): ${(err as Error).message}`);
  }
}
