import { defineCommand, sub } from "../../cli/command.ts";

/** `shed system ...`: the server's disk. One file per subcommand. */
export default defineCommand({
  meta: {
    name: "system",
    description: "The server's disk: df (what uses it), prune (reclaim it)",
    examples: ["shed system df", "shed system prune --dry-run"],
  },
  subCommands: {
    df: sub(() => import("./df.ts")),
    prune: sub(() => import("./prune.ts")),
  },
});
