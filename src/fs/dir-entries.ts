import { readdirSync } from "node:fs";

/** A directory's entries without dot files; none when it does not exist (or cannot be read). */
export function dirEntries(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => !f.startsWith("."));
  } catch {
    return [];
  }
}
