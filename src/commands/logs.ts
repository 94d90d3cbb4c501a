import { defineCommand } from "citty";
import { getShedLogs } from "../api/logs-client.ts";
import { cli } from "./context.ts";
import { numberArg } from "./create.ts";

export default defineCommand({
  meta: { name: "logs", description: "Show what a shed's VM console (or container) printed" },
  args: {
    name: { type: "positional", description: "Shed name", required: true },
    tail: { type: "string", description: "Show at most this many bytes from the end (default 256 KiB)" },
  },
  async run({ args }) {
    const tail = args.tail === undefined ? undefined : numberArg("--tail", args.tail);
    const logs = await getShedLogs(cli().client(), args.name, tail);
    await cli().out.result(logs, logs.text || `(shed ${logs.name} has printed nothing yet)`);
  },
});
