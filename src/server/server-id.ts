import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../fs/atomic-file.ts";

/** The server's id in its state dir (made once): what marks what it made (labels, instance files). */
export function readOrCreateServerId(stateDir: string): string {
  const file = join(stateDir, "server-id");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const id = crypto.randomUUID().replaceAll("-", "").slice(0, 16);
  writeFileAtomic(file, `${id}\n`);
  return id;
}
