import { defineCommand, sub } from "../../cli/command.ts";

export default defineCommand({
  meta: {
    name: "server",
    description: "Manage the servers this CLI talks to",
    examples: ["shed server add my-server.local --name home", "shed server list"],
  },
  subCommands: {
    add: sub(() => import("./add.ts")),
    list: sub(() => import("./list.ts")),
    ls: sub(() => import("./list.ts")),
    remove: sub(() => import("./remove.ts")),
    rm: sub(() => import("./remove.ts")),
    "set-default": sub(() => import("./set-default.ts")),
    update: sub(() => import("./update.ts")),
  },
});
