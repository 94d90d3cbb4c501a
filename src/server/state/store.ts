import { existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { ShedError } from "../../api/errors.ts";
import { SHED_NAME_PATTERN } from "../../api/schemas/shed.ts";
import { formatIssues } from "../../api/validation.ts";
import type { Logger } from "../../log/logger.ts";
import { fsyncDir, writeFileAtomic } from "../../fs/atomic-file.ts";
import { type ShedRecord, ShedRecordSchema, upgradeRecord } from "./shed-record.ts";

/** A state file that could not be read: reported by the server, never fatal. */
export interface StateProblem {
  file: string;
  reason: string;
  /** The shed it belongs to, when its file name is a shed name. */
  name?: string;
}

/**
 * One JSON file per shed under <stateDir>/sheds. Writes are atomic; a file that is corrupt
 * or half-written is reported and skipped (left in place for a person to look at).
 */
export class ShedStore {
  readonly dir: string;

  constructor(stateDir: string, private readonly logger: Logger) {
    this.dir = join(stateDir, "sheds");
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  /** Defence in depth: only a valid shed name ever becomes a path, whatever the caller checked. */
  private path(name: string): string {
    if (!SHED_NAME_PATTERN.test(name)) throw new ShedError("INVALID_NAME", `invalid shed name ${JSON.stringify(name)}`);
    return join(this.dir, `${name}.json`);
  }

  /** The record, the problem with its file, or undefined when there is none. */
  lookup(name: string): { record: ShedRecord } | { problem: StateProblem } | undefined {
    const file = this.path(name);
    if (!existsSync(file)) return undefined;
    return this.read(file);
  }

  list(): { records: ShedRecord[]; problems: StateProblem[] } {
    const records: ShedRecord[] = [];
    const problems: StateProblem[] = [];
    for (const entry of readdirSync(this.dir)) {
      if (!entry.endsWith(".json") || entry.startsWith(".")) continue;
      const result = this.read(join(this.dir, entry), entry.slice(0, -5));
      if ("problem" in result) problems.push(result.problem);
      else records.push(result.record);
    }
    records.sort((a, b) => a.name.localeCompare(b.name));
    return { records, problems };
  }

  /** Writes the record atomically; a failed write leaves the previous file whole (STORAGE_FULL when the disk is). */
  put(record: ShedRecord): void {
    const file = this.path(record.name);
    try {
      writeFileAtomic(file, `${JSON.stringify(record, null, 2)}\n`, 0o600);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const full = code === "ENOSPC" || code === "EDQUOT";
      throw new ShedError(
        full ? "STORAGE_FULL" : "INTERNAL",
        `the state of shed "${record.name}" could not be saved (${code ?? (err as Error).message})${full ? ": the server's disk is full; free space on it" : ""}`,
        { cause: err },
      );
    }
  }

  remove(name: string): void {
    try {
      unlinkSync(this.path(name));
      fsyncDir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }

  private read(file: string, stem = file.split("/").pop()!.replace(/\.json$/, "")): { record: ShedRecord } | { problem: StateProblem } {
    const name = SHED_NAME_PATTERN.test(stem) ? { name: stem } : {};
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, "utf8"));
    } catch (err) {
      const problem = { file, ...name, reason: `not valid JSON: ${(err as Error).message}` };
      this.logger.warn("skipping unreadable state file", { ...problem });
      return { problem };
    }
    const parsed = v.safeParse(ShedRecordSchema, upgradeRecord(raw));
    if (!parsed.success) {
      const problem = { file, ...name, reason: formatIssues(parsed.issues) };
      this.logger.warn("skipping invalid state file", { ...problem });
      return { problem };
    }
    if (parsed.output.name !== stem) {
      const problem = { file, ...name, reason: `it names the shed "${parsed.output.name}", not "${stem}"` };
      this.logger.warn("skipping misnamed state file", { ...problem });
      return { problem };
    }
    return { record: parsed.output };
  }
}
