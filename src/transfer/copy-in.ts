import { readdirSync, type Stats, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { ShedError } from "../api/errors.ts";
import { type TarWriteEntry, tarStream } from "../tar/writer.ts";
import type { AgentConnection } from "../agent/protocol/api.ts";

/**
 * Host files and directories copied into a shed as one tar stream over the agent's `put`:
 * how `shed sync` and the credential copies of VM backends move files. A plan is made first
 * (what `--dry-run` lists), then exactly that plan is sent.
 */
export interface CopySpec {
  /** Absolute host path: a file or a directory. */
  source: string;
  /** Absolute path in the shed: the file's new name, or the directory the contents go into. */
  target: string;
  /** Globs a file must match (a pattern without `/` matches the base name, else the relative path). */
  include?: string[];
  /** Globs of files and directories left out (same matching; an excluded directory is skipped whole). */
  exclude?: string[];
}

export interface CopyPlan {
  spec: CopySpec;
  /** Where the archive is unpacked in the shed. */
  dir: string;
  entries: PlannedEntry[];
}

export interface PlannedEntry {
  /** Path inside the archive (relative to `dir`). */
  name: string;
  hostPath: string;
  type: "file" | "dir";
  size: number;
  mode: number;
  mtime: number;
}

export function planCopy(spec: CopySpec): CopyPlan {
  let stat: Stats;
  try {
    stat = statSync(spec.source);
  } catch {
    throw new ShedError("NOT_FOUND", `${spec.source} does not exist on this machine`);
  }
  if (stat.isFile()) {
    return { spec, dir: dirname(spec.target), entries: [entry(basename(spec.target), spec.source, stat)] };
  }
  if (!stat.isDirectory()) throw new ShedError("INVALID_REQUEST", `${spec.source} is neither a file nor a directory`);
  const include = spec.include?.length ? spec.include.map(matcher) : undefined;
  const exclude = (spec.exclude ?? []).map(matcher);
  const entries: PlannedEntry[] = [];
  const seen = new Set<string>();
  const walk = (hostDir: string, rel: string) => {
    const st = statSync(hostDir);
    // Symlinked directories are followed, a loop only once.
    const id = `${st.dev}:${st.ino}`;
    if (seen.has(id)) return;
    seen.add(id);
    for (const name of readdirSync(hostDir).sort()) {
      const hostPath = join(hostDir, name);
      const relPath = rel ? `${rel}/${name}` : name;
      if (exclude.some((m) => m(relPath))) continue;
      let s: Stats;
      try {
        s = statSync(hostPath);
      } catch {
        continue; // a dangling symlink
      }
      if (s.isDirectory()) {
        // With include patterns only matching files are sent; tar makes their parents.
        if (!include) entries.push(entry(relPath, hostPath, s));
        walk(hostPath, relPath);
      } else if (s.isFile() && (!include || include.some((m) => m(relPath)))) {
        entries.push(entry(relPath, hostPath, s));
      }
    }
  };
  walk(spec.source, "");
  return { spec, dir: spec.target, entries };
}

/** The shed user's home (uid 1000 in every shed image). */
export const SHED_HOME = "/home/shed";

/** Who copies into the shed belong to: the shed user under its home, root anywhere else. */
export function ownerFor(target: string): "shed" | "root" {
  return target === SHED_HOME || target.startsWith(`${SHED_HOME}/`) ? "shed" : "root";
}

/** Sends the plan; files are read as they go, so one that changed size meanwhile fails the copy. */
export async function copyIntoShed(agent: AgentConnection, plan: CopyPlan, user: string): Promise<void> {
  const entries = plan.entries.map(
    (e): TarWriteEntry =>
      e.type === "dir"
        ? { name: e.name, type: "dir", mode: e.mode, mtime: e.mtime }
        : { name: e.name, type: "file", size: e.size, mode: e.mode, mtime: e.mtime, data: () => Bun.file(e.hostPath).stream() },
  );
  await agent.putArchive(plan.dir, tarStream(entries), { user });
}

function entry(name: string, hostPath: string, s: Stats): PlannedEntry {
  return {
    name,
    hostPath,
    type: s.isDirectory() ? "dir" : "file",
    size: s.isDirectory() ? 0 : Number(s.size),
    mode: Number(s.mode) & 0o7777,
    mtime: Math.floor(Number(s.mtimeMs) / 1000),
  };
}

function matcher(pattern: string): (relPath: string) => boolean {
  const glob = new Bun.Glob(pattern);
  return pattern.includes("/") ? (rel) => glob.match(rel) : (rel) => glob.match(rel.slice(rel.lastIndexOf("/") + 1));
}
