import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import * as v from "valibot";

/**
 * A guest image recipe (guest/<name>/recipe.json): Debian packages installed with debootstrap
 * (or apt on top of the parent's system), npm CLIs, and a setup script run in the chroot.
 */
export const RecipeSchema = v.object({
  name: v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9-]*$/)),
  description: v.optional(v.string(), ""),
  /** Recipe this one starts from: a directory name beside this recipe's directory. */
  parent: v.optional(v.string()),
  /** Debian suite; only the root recipe (no parent) picks it. */
  suite: v.optional(v.string(), "bookworm"),
  packages: v.optional(v.array(v.string()), []),
  /** Debian kernel package carried in the image for the VM backends (root recipe only). */
  kernel: v.optional(v.string()),
  npm: v.optional(v.array(v.string()), []),
  /** Script (relative to the recipe dir) run as root inside the chroot, last. */
  setup: v.optional(v.string()),
});
export type RecipeFile = v.InferOutput<typeof RecipeSchema>;

export interface Recipe extends RecipeFile {
  dir: string;
  parentRecipe?: Recipe;
  /** Hash of everything that decides the OS stage: this recipe's files and its parents'. */
  hash: string;
}

/** Bumped when the builder changes what an OS stage produces, so old caches are not reused. */
const BUILDER_VERSION = "2";

/** Loads `dir/recipe.json` and its parents. `dir` may also be a bare name under guest/. */
export function loadRecipe(dirOrName: string, seen: string[] = []): Recipe {
  const dir = resolveRecipeDir(dirOrName);
  const file = join(dir, "recipe.json");
  if (!existsSync(file)) {
    throw new Error(`no recipe at ${file}: pass a directory holding recipe.json (e.g. guest/base)`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new Error(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = v.safeParse(RecipeSchema, raw);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    throw new Error(`${file}: ${v.getDotPath(issue) ?? "recipe"}: ${issue.message}`);
  }
  const recipe = parsed.output;
  if (seen.includes(dir)) throw new Error(`recipe ${file} inherits from itself (${[...seen, dir].join(" -> ")})`);
  const parentRecipe = recipe.parent ? loadRecipe(join(dirname(dir), recipe.parent), [...seen, dir]) : undefined;
  if (parentRecipe && recipe.kernel) throw new Error(`${file}: only the root recipe picks the kernel`);
  if (!parentRecipe && !recipe.kernel) throw new Error(`${file}: the root recipe must name a kernel package`);

  const h = createHash("sha256").update(`builder ${BUILDER_VERSION}\n`).update(readFileSync(file));
  if (recipe.setup) {
    const setup = join(dir, recipe.setup);
    if (!existsSync(setup)) throw new Error(`${file}: setup script ${setup} is missing`);
    h.update(readFileSync(setup));
  }
  if (parentRecipe) h.update(parentRecipe.hash);
  return { ...recipe, dir, parentRecipe, hash: h.digest("hex").slice(0, 16) };
}

function resolveRecipeDir(dirOrName: string): string {
  if (existsSync(join(dirOrName, "recipe.json"))) return resolve(dirOrName);
  const underGuest = join(guestDir(), basename(dirOrName));
  if (!dirOrName.includes("/") && existsSync(join(underGuest, "recipe.json"))) return underGuest;
  return resolve(dirOrName);
}

/** The guest/ directory of this source tree. */
export function guestDir(): string {
  return resolve(import.meta.dir, "..");
}

/** The chain root first: base, devtools, default. */
export function lineage(recipe: Recipe): Recipe[] {
  return recipe.parentRecipe ? [...lineage(recipe.parentRecipe), recipe] : [recipe];
}

export function rootRecipe(recipe: Recipe): Recipe {
  return recipe.parentRecipe ? rootRecipe(recipe.parentRecipe) : recipe;
}
