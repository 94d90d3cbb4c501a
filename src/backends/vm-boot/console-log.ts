import { appendFileSync, closeSync, existsSync, openSync, readSync, statSync, writeFileSync } from "node:fs";

/**
 * The VM's serial console (kernel, shed-init, systemd) goes to console.log in the instance
 * dir, appended across boots; each boot starts with a marker line. The file is trimmed to
 * its last MiB when it passes 4 MiB, at boot.
 */
const MARKER = "=== shed: boot";
const MAX_BYTES = 4 * 1024 * 1024;
const KEEP_BYTES = 1024 * 1024;

export function appendBootMarker(path: string, detail: string): void {
  if (existsSync(path) && statSync(path).size > MAX_BYTES) {
    const tail = readTail(path, KEEP_BYTES);
    writeFileSync(path, `[... older console output trimmed ...]\n${tail.slice(tail.indexOf("\n") + 1)}`);
  }
  appendFileSync(path, `\n${MARKER} ${new Date().toISOString()} (${detail}) ===\n`);
}

export function readConsole(path: string, tailBytes: number): string {
  if (!existsSync(path)) return "";
  return stripControl(readTail(path, tailBytes));
}

/**
 * Why the last boot ended, in one line: shed-init's FATAL line, a kernel panic, or the last
 * lines of the console when neither is there.
 */
export function bootFailure(path: string): string {
  const text = readConsole(path, 64 * 1024);
  const lastBoot = text.slice(text.lastIndexOf(MARKER));
  const fatal = lastBoot.match(/shed-init: FATAL: .*/g);
  if (fatal) return fatal[fatal.length - 1]!.trim();
  const panic = lastBoot.match(/Kernel panic - .*/);
  if (panic) return panic[0].trim();
  const lines = lastBoot
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith(MARKER));
  return lines.length ? `last console lines: ${lines.slice(-3).join(" | ")}` : "no console output";
}

function readTail(path: string, bytes: number): string {
  const size = statSync(path).size;
  const start = Math.max(0, size - bytes);
  const buf = Buffer.alloc(size - start);
  const fd = openSync(path, "r");
  try {
    readSync(fd, buf, 0, buf.length, start);
  } finally {
    closeSync(fd);
  }
  return buf.toString("utf8");
}

/** Terminal colour codes and carriage returns from systemd's status lines. */
export function stripControl(text: string): string {
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").replace(/\r/g, "");
}
