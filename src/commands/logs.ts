import { SHED_API } from "../api/endpoints/sheds.ts";
import { defineCommand } from "../cli/command.ts";
import { cli } from "../cli/context.ts";
import { numberArg, usageError } from "../cli/values.ts";

/** What `-f` shows first when --tail does not say: about a screenful, as `tail -f` does. */
const FOLLOW_LINES = 10;

export default defineCommand({
  meta: {
    name: "logs",
    preconnect: true,
    description: "Show what a shed printed: its VM console, or its container's output",
    details:
      "--since takes a duration back from now (10m, 1h30m, 2d) or a time (2026-12-01T10:00:00Z); it works where the " +
      "logs carry times (a container's output), not for a VM's console. -f keeps printing until Ctrl-C.",
    examples: ["shed logs vm1", "shed logs vm1 --tail 50", "shed logs vm1 -f", "shed logs web --since 10m"],
  },
  args: {
    name: { type: "positional", description: "Shed name", required: true, complete: "shed" },
    follow: { type: "boolean", alias: "f", description: "Keep printing what it prints (Ctrl-C stops)" },
    tail: { type: "string", alias: "n", valueHint: "LINES", description: "Show only the last LINES lines" },
    since: { type: "string", valueHint: "DURATION|TIME", description: "Show only what was printed since then (10m, or a time)" },
  },
  async run({ args }) {
    const { out } = cli();
    const lines = args.tail === undefined ? undefined : numberArg("--tail", args.tail, { min: 0, integer: true });
    const client = cli().client();
    if (args.follow) {
      if (out.json) throw usageError("shed logs: --follow prints text as it comes; leave out --json");
      if (args.since) throw usageError("shed logs: --since and --follow do not go together; use --tail with --follow");
      // One stream from the server: the last lines, then everything new, nothing lost or twice.
      const stream = await client.call(SHED_API.followShedLogs, { params: { name: args.name }, query: { lines: String(lines ?? FOLLOW_LINES) } });
      for await (const chunk of stream.body) process.stdout.write(chunk);
      return;
    }
    const query = args.since ? { since: args.since } : {};
    const logs = await client.call(SHED_API.getShedLogs, { params: { name: args.name }, query });
    const text = lastLines(logs.text, lines);
    await out.result({ ...logs, text }, text || `(shed ${logs.name} has printed nothing${args.since ? " since then" : " yet"})`);
  },
});

function lastLines(text: string, n: number | undefined): string {
  if (n === undefined) return text;
  if (n === 0) return "";
  const parts = text.split("\n");
  const trailing = text.endsWith("\n") ? 1 : 0;
  return parts.slice(-(n + trailing)).join("\n");
}
