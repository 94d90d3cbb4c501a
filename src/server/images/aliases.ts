import type { BackendName } from "../../api/schemas/shed.ts";
import { tryParseReference } from "../../oci/spec/reference.ts";
import { type ServerConfig, sectionOf } from "../config/schema.ts";

/**
 * Image names that work on every server without configuration: the guest recipes of
 * `guest/<variant>` (seed 000's variants), built locally as `shed/<variant>:latest` by
 * `make image-<variant>`. Each backend's `image_aliases` may point them elsewhere.
 */
export const BUILTIN_ALIASES: Readonly<Record<string, string>> = {
  base: "shed/base:latest",
  devtools: "shed/devtools:latest",
  default: "shed/default:latest",
};

/** The aliases in effect for one backend: the built-ins, overridden and extended by its image_aliases. */
export function backendAliases(config: ServerConfig, backend: BackendName): Record<string, string> {
  return { ...BUILTIN_ALIASES, ...sectionOf(config, backend).image_aliases };
}

/** The alias names that lead to `ref` on `backend` (`input` first when it is one of them). */
export function aliasesOf(config: ServerConfig, backend: BackendName, ref: string, input?: string): string[] {
  const key = tryParseReference(ref)?.toString() ?? ref;
  const names = Object.entries(backendAliases(config, backend))
    .filter(([, target]) => (tryParseReference(target)?.toString() ?? target) === key)
    .map(([name]) => name);
  return input && names.includes(input) ? [input, ...names.filter((n) => n !== input)] : names;
}

/** The recipe that builds `ref` when it is one of the built-in images (shed/base:latest -> base). */
export function recipeOf(ref: string): string | undefined {
  const key = tryParseReference(ref)?.toString();
  return Object.entries(BUILTIN_ALIASES).find(([, target]) => tryParseReference(target)?.toString() === key)?.[0];
}

/** What to run so that `ref` exists in the server's store (for IMAGE_NOT_FOUND messages). */
export function howToGet(ref: string, familiar: string): string {
  const recipe = recipeOf(ref);
  if (recipe) {
    return (
      `build it with \`make image-${recipe}\` (in a shed checkout) or \`shed image build --recipe guest/${recipe} -t ${familiar}\`, ` +
      `or pull a copy by its full name and tag it: \`shed image pull HOST/REPO:TAG && shed image tag HOST/REPO:TAG ${familiar}\``
    );
  }
  return (
    "build or load it (`shed image build -t NAME DIR`, `shed image load -i FILE`; the guest images: `make image-base` or " +
    "`shed image build --recipe guest/base`), or give the image with its registry host: `shed image pull HOST/REPO:TAG`"
  );
}
