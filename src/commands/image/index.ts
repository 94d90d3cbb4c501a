import { defineCommand, sub } from "../../cli/command.ts";

/** `shed image ...`: the server's image store. One file per subcommand. */
export default defineCommand({
  meta: {
    name: "image",
    description: "Manage the server's images: pull, push, build, save, load, tag, ls, rm, prune",
    examples: ["shed image ls", "shed image pull registry.example:5000/team/dev:1"],
  },
  subCommands: {
    ls: sub(() => import("./ls.ts")),
    list: sub(() => import("./ls.ts")),
    pull: sub(() => import("./pull.ts")),
    push: sub(() => import("./push.ts")),
    build: sub(() => import("./build.ts")),
    save: sub(() => import("./save.ts")),
    load: sub(() => import("./load.ts")),
    tag: sub(() => import("./tag.ts")),
    rm: sub(() => import("./rm.ts")),
    delete: sub(() => import("./rm.ts")),
    prune: sub(() => import("./prune.ts")),
    history: sub(() => import("./history.ts")),
    inspect: sub(() => import("./inspect.ts")),
  },
});
