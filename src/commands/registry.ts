import type { CommandDef } from "citty";

/** Any citty command: their args types differ, and citty's run context is contravariant in them. */
// biome-ignore lint/suspicious/noExplicitAny: see above
export type AnyCommand = CommandDef<any>;
type Loader = () => Promise<AnyCommand>;
const load = (p: Promise<{ default: AnyCommand }>) => p.then((m) => m.default);

/**
 * Every top-level command, loaded lazily so `shed exec` never pays for the table renderer
 * or the image code. One line per command; the command lives in its own file.
 */
export const commands: Record<string, Loader> = {
  create: () => load(import("./create.ts")),
  list: () => load(import("./list.ts")),
  info: () => load(import("./info.ts")),
  start: () => load(import("./start.ts")),
  stop: () => load(import("./stop.ts")),
  delete: () => load(import("./delete.ts")),
  reset: () => load(import("./reset.ts")),
  exec: () => load(import("./exec.ts")),
  logs: () => load(import("./logs.ts")),
  ssh: () => load(import("./ssh.ts")),
  console: () => load(import("./console.ts")),
  attach: () => load(import("./attach.ts")),
  sessions: () => load(import("./sessions.ts")),
  "ssh-config": () => load(import("./ssh-config.ts")),
  sync: () => load(import("./sync/index.ts")),
  tunnels: () => load(import("./tunnels/index.ts")),
  image: () => load(import("./image/index.ts")),
  server: () => load(import("./server/index.ts")),
  version: () => load(import("./version.ts")),
};

/** Other names for commands (`shed ls`, `shed rm`). */
export const aliases: Record<string, string> = { ls: "list", rm: "delete" };
