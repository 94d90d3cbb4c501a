import { type WrittenImage } from "./oci-layout.ts";
import { type Recipe } from "./recipe.ts";
/** Image config labels that tell a VM backend where the boot files are. */
export declare const BOOT_LABELS: {
    readonly kernel: "dev.shed.boot.kernel";
    readonly initrd: "dev.shed.boot.initrd";
    readonly release: "dev.shed.boot.release";
    readonly recipe: "dev.shed.recipe";
    readonly recipeHash: "dev.shed.recipe.hash";
};
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
export declare const DEFAULT_CACHE = "/var/cache/shed-build";
/**
 * Recipe -> OCI image layout, no Docker involved: the OS stage (debootstrap/apt/npm, cached by
 * recipe hash) as layer 1, the shed layer (agent, units, kernel, initramfs) as layer 2. The
 * same recipe and agent give back the same cached layout.
 */
export declare function buildImage(opts: BuildOptions): Promise<BuiltImage>;
