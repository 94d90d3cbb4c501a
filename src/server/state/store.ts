import { existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { ShedError } from "../../api/errors.ts";
import { formatIssues } from "../../api/validation.ts";
import type { Logger } from "../../log/logger.ts";
import { fsyncDir, writeFileAtomic } from "../../fs/atomic-file.ts";
import { type ShedRecord, ShedRecordSchema } from "./shed-record.ts";

/** A state file that could not be read: reported by the server, never fatal. */
export interface StateProblem {
  file: string;
  reason: string;
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

  private path(name: string): string {
    return join(this.dir, `${name}.json`);
  }

  get(name: string): ShedRecord | undefined {
    const file = this.path(name);
    if (!existsSync(file)) return undefined;
    const result = this.read(file);
    if ("problem" in result) {
      throw new ShedError(
        "INTERNAL",
        `state file ${file} is unreadable (${result.problem.reason}); move it away to recover the name`,
      );
    }
    return result.record;
  }

  list(): { records: ShedRecord[]; problems: StateProblem[] } {
    const records: ShedRecord[] = [];
    const problems: StateProblem[] = [];
    for (const entry of readdirSync(this.dir)) {
      if (!entry.endsWith(".json") || entry.startsWith(".")) continue;
      const result = this.read(join(this.dir, entry));
      if ("problem" in result) problems.push(result.problem);
      else records.push(result.record);
    }
    records.sort((a, b) => a.name.localeCompare(b.name));
    return { records, problems };
  }

  put(record: ShedRecord): void {
    writeFileAtomic(this.path(record.name), `${JSON.stringify(record, null, 2)}\n`, 0o600);
  }

  remove(name: string): void {
    try {
      unlinkSync(this.path(name));
      fsyncDir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }

  private read(file: string): { record: ShedRecord } | { problem: StateProblem } {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, "utf8"));
    } catch (err) {
      const problem = { file, reason: `not valid JSON: ${(err as Error).message}` };
      this.logger.warn("skipping unreadable state file", { ...problem });
      return { problem };
    }
    const parsed = v.safeParse(ShedRecordSchema, raw);
    if (!parsed.success) {
      const problem = { file, reason: formatIssues(parsed.issues) };
      this.logger.warn("skipping invalid state file", { ...problem });
      return { problem };
    }
    return { record: parsed.output };
  }
}
