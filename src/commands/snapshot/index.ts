import { defineCommand, sub } from "../../cli/command.ts";

/** `shed snapshot ...`: named captures of stopped sheds (seed 003). One file per subcommand. */
export default defineCommand({
  meta: {
    name: "snapshot",
    description: "Snapshots of stopped sheds: create, list, info, delete; spawn with `shed create NEW --from-snapshot NAME`",
    examples: ["shed snapshot create base baseline-v1 --comment 'agent + deps'", "shed snapshot list", "shed create exp --from-snapshot baseline-v1"],
  },
  subCommands: {
    create: sub(() => import("./create.ts")),
    list: sub(() => import("./list.ts")),
    ls: sub(() => import("./list.ts")),
    info: sub(() => import("./info.ts")),
    delete: sub(() => import("./delete.ts")),
    rm: sub(() => import("./delete.ts")),
  },
});
