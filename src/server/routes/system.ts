import type { SYSTEM_API } from "../../api/endpoints/system.ts";
import type { ServerContext } from "../context.ts";
import type { Handlers } from "./mount.ts";

/** /api/system: disk use and prune. */
export function systemHandlers(ctx: ServerContext): Handlers<typeof SYSTEM_API> {
  return {
    getSystemDf: async ({ query }) => ({ server: ctx.config.name, ...(await ctx.system.df(query.verbose === "true")) }),
    pruneSystem: ({ body }) => ctx.system.prune(body),
  };
}
