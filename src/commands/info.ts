import { defineCommand } from "citty";
import { cli } from "./context.ts";

export default defineCommand({
  meta: { name: "info", description: "Show one shed" },
  args: { name: { type: "positional", description: "Shed name", required: true } },
  async run({ args }) {
    const shed = await cli().client().getShed(args.name);
    const lines = [
      ["Name", shed.name],
      ["State", shed.state],
      ["Healthy", shed.healthy === undefined ? "-" : String(shed.healthy)],
      ["Backend", shed.backend],
      ["Image", shed.image],
      ["CPUs", String(shed.cpus)],
      ["Memory", `${shed.memoryMb} MB`],
      ["Created", shed.createdAt],
      ["Updated", shed.updatedAt],
      ...(shed.error ? [["Error", shed.error]] : []),
      ...(shed.warnings ?? []).map((w) => ["Warning", w]),
    ];
    await cli().out.result(shed, lines.map(([k, v]) => `${`${k}:`.padEnd(10)} ${v}`).join("\n"));
  },
});
