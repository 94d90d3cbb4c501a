import type { AgentConnection } from "../agent/protocol/api.ts";
import { runInShed } from "../agent/protocol/run-in-shed.ts";
import { ShedError } from "../api/errors.ts";
import { collectExec } from "./exec.ts";

/**
 * Files in a shed, through its agent, as a user of the shed (default `shed`), so the
 * shed's own permissions decide: what that user could not read with `cat` is refused here.
 */

export interface FileOptions {
  /** Who reads or writes: "shed" (default), "root", or another user of the shed. */
  user?: string;
}

export interface ReadFileResult {
  path: string;
  /** The file's bytes (up to maxBytes). */
  content: Uint8Array;
  /** The file's whole size. */
  size: number;
  truncated: boolean;
}

export interface DirEntry {
  name: string;
  type: "file" | "directory" | "symlink" | "other";
  size: number;
  /** Permission bits, octal ("644"). */
  mode: string;
  /** Last modification, ISO time. */
  modified: string;
}

export const DEFAULT_MAX_READ_BYTES = 1024 * 1024;

/** Maps a failed helper command to the shed error it means. */
function failed(what: string, path: string, stderr: string): ShedError {
  const reason = stderr.trim().split("\n").at(-1)?.replace(/^[\w.-]+: (line \d+: )?/, "") || "failed";
  const code = /No such file|not found|does not exist/i.test(reason) ? "NOT_FOUND" : "INVALID_REQUEST";
  return new ShedError(code, `${what} ${path} in the shed: ${reason}`);
}

function absolute(path: string): string {
  if (!path.startsWith("/")) throw new ShedError("INVALID_REQUEST", `the path in the shed must be absolute (start with /): ${JSON.stringify(path)}`);
  return path;
}

export async function readFile(agent: AgentConnection, path: string, opts: FileOptions & { maxBytes?: number } = {}): Promise<ReadFileResult> {
  const max = opts.maxBytes ?? DEFAULT_MAX_READ_BYTES;
  // The size first (a directory or a missing file is refused by name), then at most max bytes.
  const script = 'test -f "$1" || { test -e "$1" && echo "$1: not a regular file" >&2 || echo "$1: No such file" >&2; exit 1; }; wc -c < "$1"; head -c "$2" -- "$1"';
  const proc = await agent.exec({ argv: ["sh", "-c", script, "sh", absolute(path), String(max)], login: false, ...(opts.user ? { user: opts.user } : {}) });
  const chunks: Uint8Array[] = [];
  const stderr = new Response(proc.stderr).text();
  await proc.stdin.close().catch(() => {});
  for await (const chunk of proc.stdout) chunks.push(chunk);
  const [status, err] = await Promise.all([proc.exit, stderr]);
  if (status.code !== 0) throw failed("cannot read", path, err);
  const all = Buffer.concat(chunks);
  const newline = all.indexOf(10);
  const size = Number(all.subarray(0, newline).toString().trim());
  const content = new Uint8Array(all.subarray(newline + 1));
  return { path, content, size, truncated: size > content.length };
}

export async function writeFile(
  agent: AgentConnection,
  path: string,
  data: string | Uint8Array,
  opts: FileOptions & { append?: boolean; mode?: string } = {},
): Promise<{ path: string; bytes: number }> {
  if (opts.mode !== undefined && !/^[0-7]{3,4}$/.test(opts.mode)) throw new ShedError("INVALID_REQUEST", `mode must be octal permission bits such as 644, got ${JSON.stringify(opts.mode)}`);
  const redirect = opts.append ? ">>" : ">";
  const chmod = opts.mode ? ' && chmod "$2" -- "$1"' : "";
  const script = `mkdir -p -- "$(dirname -- "$1")" && cat ${redirect} "$1"${chmod}`;
  const proc = await agent.exec({ argv: ["sh", "-c", script, "sh", absolute(path), opts.mode ?? ""], login: false, ...(opts.user ? { user: opts.user } : {}) });
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const result = await collectExec(proc, { stdin: bytes });
  if (result.exitCode !== 0) throw failed("cannot write", path, result.stderr.text);
  return { path, bytes: bytes.length };
}

export async function listDir(agent: AgentConnection, path: string, opts: FileOptions = {}): Promise<DirEntry[]> {
  // stat -c works with GNU coreutils and busybox alike; names come last, so tabs in them survive.
  const script =
    'test -d "$1" || { test -e "$1" && echo "$1: not a directory" >&2 || echo "$1: No such directory" >&2; exit 1; }; cd -- "$1" || exit 1; for f in * .[!.]* ..?*; do [ -e "$f" ] || [ -L "$f" ] || continue; stat -c "%F\t%s\t%a\t%Y\t%n" -- "$f"; done';
  const r = await runInShed(agent, { argv: ["sh", "-c", script, "sh", absolute(path)], login: false, ...(opts.user ? { user: opts.user } : {}) });
  if (r.code !== 0) throw failed("cannot list", path, r.stderr);
  return r.stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [kind, size, mode, mtime, ...name] = line.split("\t");
      return { name: name.join("\t"), type: entryType(kind!), size: Number(size), mode: mode!, modified: new Date(Number(mtime) * 1000).toISOString() };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

function entryType(kind: string): DirEntry["type"] {
  if (kind.startsWith("regular")) return "file";
  if (kind === "directory") return "directory";
  if (kind === "symbolic link") return "symlink";
  return "other";
}
