import { defineCommand } from "citty";

export default defineCommand({
  meta: { name: "server", description: "Manage the servers this CLI talks to" },
  subCommands: {
    add: () => import("./add.ts").then((m) => m.default),
    list: () => import("./list.ts").then((m) => m.default),
    ls: () => import("./list.ts").then((m) => m.default),
    remove: () => import("./remove.ts").then((m) => m.default),
    rm: () => import("./remove.ts").then((m) => m.default),
    "set-default": () => import("./set-default.ts").then((m) => m.default),
  },
});
