import * as v from "valibot";
/**
 * A guest image recipe (guest/<name>/recipe.json): Debian packages installed with debootstrap
 * (or apt on top of the parent's system), npm CLIs, and a setup script run in the chroot.
 */
export declare const RecipeSchema: v.ObjectSchema<{
    readonly name: v.SchemaWithPipe<readonly [v.StringSchema<undefined>, v.RegexAction<string, undefined>]>;
    readonly description: v.OptionalSchema<v.StringSchema<undefined>, "">;
    /** Recipe this one starts from: a directory name beside this recipe's directory. */
    readonly parent: v.OptionalSchema<v.StringSchema<undefined>, undefined>;
    /** Debian suite; only the root recipe (no parent) picks it. */
    readonly suite: v.OptionalSchema<v.StringSchema<undefined>, "bookworm">;
    readonly packages: v.OptionalSchema<v.ArraySchema<v.StringSchema<undefined>, undefined>, readonly []>;
    /** Debian kernel package carried in the image for the VM backends (root recipe only). */
    readonly kernel: v.OptionalSchema<v.StringSchema<undefined>, undefined>;
    readonly npm: v.OptionalSchema<v.ArraySchema<v.StringSchema<undefined>, undefined>, readonly []>;
    /** Script (relative to the recipe dir) run as root inside the chroot, last. */
    readonly setup: v.OptionalSchema<v.StringSchema<undefined>, undefined>;
}, undefined>;
export type RecipeFile = v.InferOutput<typeof RecipeSchema>;
export interface Recipe extends RecipeFile {
    dir: string;
    parentRecipe?: Recipe;
    /** Hash of everything that decides the OS stage: this recipe's files and its parents'. */
    hash: string;
}
/** Loads `dir/recipe.json` and its parents. `dir` may also be a bare name under guest/. */
export declare function loadRecipe(dirOrName: string, seen?: string[]): Recipe;
/** The guest/ directory of this source tree. */
export declare function guestDir(): string;
/** The chain root first: base, devtools, default. */
export declare function lineage(recipe: Recipe): Recipe[];
export declare function rootRecipe(recipe: Recipe): Recipe;
