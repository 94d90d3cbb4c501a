import { createInterface } from "node:readline/promises";
import { ShedError } from "../api/errors.ts";
import { cli } from "./context.ts";

/**
 * Asks before something that cannot be undone (delete, reset) when a person is at a
 * terminal; -f/--force skips it. Scripts (no terminal) are not asked; --json without -f
 * refuses rather than prompt into a pipe.
 */
export async function confirm(question: string, force: boolean | undefined): Promise<void> {
  if (force) return;
  if (cli().out.json) throw new ShedError("USAGE", `${question.replace(/\?$/, "")}: with --json, give -f/--force to confirm`);
  if (!process.stdin.isTTY || !process.stderr.isTTY) return;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    if (!/^y(es)?$/i.test(answer.trim())) throw new ShedError("USAGE", "cancelled");
  } finally {
    rl.close();
  }
}
