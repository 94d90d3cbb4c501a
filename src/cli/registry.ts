import { type AnyCommand, sub } from "./command.ts";

/**
 * Every top-level command, loaded lazily so `shed exec` never pays for the table renderer
 * or the image code. One line per command; the command lives in its own file in src/commands.
 */
export const commands: Record<string, () => Promise<AnyCommand>> = {
  create: sub(() => import("../commands/create.ts")),
  list: sub(() => import("../commands/list.ts")),
  info: sub(() => import("../commands/info.ts")),
  start: sub(() => import("../commands/start.ts")),
  stop: sub(() => import("../commands/stop.ts")),
  restart: sub(() => import("../commands/restart.ts")),
  delete: sub(() => import("../commands/delete.ts")),
  reset: sub(() => import("../commands/reset.ts")),
  exec: sub(() => import("../commands/exec.ts")),
  console: sub(() => import("../commands/console.ts")),
  attach: sub(() => import("../commands/attach.ts")),
  ssh: sub(() => import("../commands/ssh.ts")),
  broker: sub(() => import("../commands/broker.ts")),
  cp: sub(() => import("../commands/cp.ts")),
  logs: sub(() => import("../commands/logs.ts")),
  mcp: sub(() => import("../commands/mcp.ts")),
  sessions: sub(() => import("../commands/sessions.ts")),
  "ssh-config": sub(() => import("../commands/ssh-config.ts")),
  sync: sub(() => import("../commands/sync/index.ts")),
  tunnels: sub(() => import("../commands/tunnels/index.ts")),
  image: sub(() => import("../commands/image/index.ts")),
  snapshot: sub(() => import("../commands/snapshot/index.ts")),
  system: sub(() => import("../commands/system/index.ts")),
  server: sub(() => import("../commands/server/index.ts")),
  completion: sub(() => import("../commands/completion.ts")),
  version: sub(() => import("../commands/version.ts")),
  // What the completion scripts call (`shed complete -- WORDS`); hidden from help.
  complete: sub(() => import("../commands/complete.ts")),
};

/** Other names for commands (`shed ls`, `shed rm`). */
export const aliases: Record<string, string> = { ls: "list", rm: "delete", ps: "list", inspect: "info" };
