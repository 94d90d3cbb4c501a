import { defineCommand, sub } from "../../cli/command.ts";

/** `shed tunnels start|stop|list`: local ports carried to ports inside sheds. */
export default defineCommand({
  meta: {
    name: "tunnels",
    description: "Forward local ports to ports inside a shed",
    examples: ["shed tunnels start hello -t 3000 -t 8080:80 -d", "shed tunnels list -v", "shed tunnels stop --all"],
  },
  subCommands: {
    start: sub(() => import("./start.ts")),
    stop: sub(() => import("./stop.ts")),
    list: sub(() => import("./list.ts")),
    ls: sub(() => import("./list.ts")),
  },
});
