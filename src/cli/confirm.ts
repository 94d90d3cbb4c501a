import { createInterface } from "node:readline/promises";
import { ShedError } from "../api/errors.ts";
import { cli } from "./context.ts";

/**
 * Asks before something that cannot be undone (delete, reset) when a person is at a
 * terminal; -f/--force (or -y/--yes, which forces nothing else) skips it. Scripts (no
 * terminal) are not asked; --json without either refuses rather than prompt into a pipe.
 */
export async function confirm(question: string, skip: boolean | undefined): Promise<void> {
  if (skip) return;
  if (cli().out.json) throw new ShedError("USAGE", `${question.replace(/\?$/, "")}: with --json, confirm with -f/--force or -y/--yes`);
  if (!process.stdin.isTTY || !process.stderr.isTTY) return;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    if (!/^y(es)?$/i.test(answer.trim())) throw new ShedError("USAGE", "cancelled");
  } finally {
    rl.close();
  }
}
