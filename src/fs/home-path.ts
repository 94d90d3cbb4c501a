import { homedir } from "node:os";
import { join } from "node:path";

/** `~` and `~/x` in a config file (server.yaml, sync.yaml) mean the home of the user this process runs as. */
export function expandHome(path: string): string {
  if (path === "~") return homedir();
  return path.startsWith("~/") ? join(homedir(), path.slice(2)) : path;
}
