import { defineCommand } from "citty";

/** `shed image ...`: the server's image store. One file per subcommand. */
export default defineCommand({
  meta: { name: "image", description: "Manage the server's images (pull, push, save, load, ls, ...)" },
  subCommands: {
    build: () => import("./build.ts").then((m) => m.default),
    pull: () => import("./pull.ts").then((m) => m.default),
    push: () => import("./push.ts").then((m) => m.default),
    save: () => import("./save.ts").then((m) => m.default),
    load: () => import("./load.ts").then((m) => m.default),
    tag: () => import("./tag.ts").then((m) => m.default),
    rm: () => import("./rm.ts").then((m) => m.default),
    delete: () => import("./rm.ts").then((m) => m.default),
    prune: () => import("./prune.ts").then((m) => m.default),
    ls: () => import("./ls.ts").then((m) => m.default),
    list: () => import("./ls.ts").then((m) => m.default),
    history: () => import("./history.ts").then((m) => m.default),
    inspect: () => import("./inspect.ts").then((m) => m.default),
  },
});
