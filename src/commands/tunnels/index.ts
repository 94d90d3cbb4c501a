import { defineCommand } from "citty";

/** `shed tunnels start|stop|list`: local ports carried to ports inside sheds. */
export default defineCommand({
  meta: { name: "tunnels", description: "Forward local ports to ports inside a shed" },
  subCommands: {
    start: () => import("./start.ts").then((m) => m.default),
    stop: () => import("./stop.ts").then((m) => m.default),
    list: () => import("./list.ts").then((m) => m.default),
    ls: () => import("./list.ts").then((m) => m.default),
  },
});
