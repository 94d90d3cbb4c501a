/** Stamped by build.ts (--define SHED_VERSION); "dev" when run from source. */
declare const SHED_VERSION: string | undefined;
export const VERSION: string = typeof SHED_VERSION === "string" ? SHED_VERSION : "0.1.0-dev";
