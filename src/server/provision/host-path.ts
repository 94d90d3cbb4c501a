import { homedir } from "node:os";
import { join } from "node:path";

/** `~` and `~/x` in server.yaml paths mean the home of the user shed-server runs as. */
export function expandHome(path: string): string {
  if (path === "~") return homedir();
  return path.startsWith("~/") ? join(homedir(), path.slice(2)) : path;
}
