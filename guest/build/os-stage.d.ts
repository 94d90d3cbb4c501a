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
export declare function ensureOsStage(recipe: Recipe, opts: StageOptions): Promise<OsStage>;
