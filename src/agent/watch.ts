import { existsSync, watch } from "node:fs";
import { basename, dirname } from "node:path";
import { ShedError } from "../api/errors.ts";

export const WATCH_USAGE = "usage: shed-agent watch FILE [FILE ...]";

/**
 * `shed-agent watch FILE...`: inotify on each file's directory (editors, and shed's own sync,
 * replace a file by renaming a new one over it, which a watch on the file itself misses);
 * prints `ready` once the watches are set, then the index of a file each time it changes,
 * until its stdin ends.
 * The host's file sync (src/backends/vm-boot/file-sync.ts) runs it through the agent.
 */
export async function runWatch(files: string[]): Promise<void> {
  if (files.length === 0) throw new ShedError("USAGE", WATCH_USAGE);
  const byDir = new Map<string, Map<string, number>>();
  files.forEach((file, i) => {
    const dir = dirname(file);
    if (!existsSync(dir)) throw new ShedError("NOT_FOUND", `watch: ${dir} does not exist`);
    const names = byDir.get(dir) ?? new Map<string, number>();
    names.set(basename(file), i);
    byDir.set(dir, names);
  });
  for (const [dir, names] of byDir) {
    watch(dir, { persistent: true }, (_event, name) => {
      const i = name === null ? undefined : names.get(name.toString());
      if (i !== undefined) process.stdout.write(`${i}\n`);
    });
  }
  // Ends with its reader: stdin closing (the host's side gone) or stdout broken.
  process.stdin.on("end", () => process.exit(0));
  process.stdin.on("close", () => process.exit(0));
  process.stdin.resume();
  process.stdout.on("error", () => process.exit(0));
  process.stdout.write("ready\n");
  await new Promise(() => {});
}
