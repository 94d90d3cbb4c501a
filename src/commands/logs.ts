import { SHED_API } from "../api/endpoints/sheds.ts";
import { defineCommand } from "../cli/command.ts";
import { cli } from "../cli/context.ts";
import { numberArg, usageError } from "../cli/values.ts";

const FOLLOW_EVERY_MS = 1000;

export default defineCommand({
  meta: {
    name: "logs",
    description: "Show what a shed printed: its VM console, or its container's output",
    examples: ["shed logs vm1", "shed logs vm1 --tail 50", "shed logs vm1 -f"],
  },
  args: {
    name: { type: "positional", description: "Shed name", required: true, complete: "shed" },
    follow: { type: "boolean", alias: "f", description: "Keep printing what it prints (Ctrl-C stops)" },
    tail: { type: "string", alias: "n", valueHint: "LINES", description: "Show only the last LINES lines" },
  },
  async run({ args }) {
    const { out } = cli();
    const lines = args.tail === undefined ? undefined : numberArg("--tail", args.tail, { min: 0, integer: true });
    const client = cli().client();
    const logs = await client.call(SHED_API.getShedLogs, { params: { name: args.name } });
    const text = lastLines(logs.text, lines);
    if (!args.follow) {
      await out.result({ ...logs, text }, text || `(shed ${logs.name} has printed nothing yet)`);
      return;
    }
    if (out.json) throw usageError("shed logs: --follow prints text as it comes; leave out --json");
    process.stdout.write(text);
    // The server answers with the newest part of the log; what follows what we printed is new.
    let seen = logs.text;
    for (;;) {
      await Bun.sleep(FOLLOW_EVERY_MS);
      const now = (await client.call(SHED_API.getShedLogs, { params: { name: args.name } })).text;
      const fresh = newPart(seen, now);
      if (fresh) process.stdout.write(fresh);
      seen = now;
    }
  },
});

function lastLines(text: string, n: number | undefined): string {
  if (n === undefined) return text;
  if (n === 0) return "";
  const parts = text.split("\n");
  const trailing = text.endsWith("\n") ? 1 : 0;
  return parts.slice(-(n + trailing)).join("\n");
}

/** What `now` has after the end of `before` (both tails of one growing log). */
export function newPart(before: string, now: string): string {
  if (now === before || before.length === 0) return before.length === 0 ? now : "";
  const anchor = before.slice(-Math.min(4096, before.length));
  const at = now.lastIndexOf(anchor);
  return at >= 0 ? now.slice(at + anchor.length) : now;
}
