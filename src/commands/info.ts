import { SHED_API } from "../api/endpoints/sheds.ts";
import { defineCommand } from "../cli/command.ts";
import { cli } from "../cli/context.ts";
import { shedDetails } from "../cli/shed-details.ts";

export default defineCommand({
  meta: {
    name: "info",
    preconnect: true,
    aliases: ["inspect"],
    description: "Show one shed: state, image and its digest, resources, mounts, environment names, provisioning, last error",
    examples: ["shed info hello", "shed info hello --json", "shed info hello --format '{{.state}}'"],
  },
  args: {
    name: { type: "positional", description: "Shed name", required: true, complete: "shed" },
    format: { type: "string", valueHint: "FORMAT", description: "json, yaml, or a template over the JSON fields: '{{.state}}'" },
  },
  async run({ args }) {
    const { out } = cli();
    const client = cli().client();
    const shed = await client.call(SHED_API.getShed, { params: { name: args.name } });
    const details = await shedDetails(client, shed);
    const full = { ...shed, ...details };
    const lines: [string, string | undefined][] = [
      ["Name", shed.name],
      ["State", shed.state],
      ["Healthy", shed.healthy === undefined ? "-" : String(shed.healthy)],
      ["Backend", shed.backend],
      ["Image", shed.image],
      ["Digest", shed.imageDigest],
      ["CPUs", String(shed.cpus)],
      ["Memory", `${shed.memoryMb} MB`],
      ["IP", details.ip],
      ["Uptime", details.uptimeSeconds === undefined ? undefined : `${details.uptimeSeconds}s`],
      ["Agent", details.agentVersion],
      ...(shed.mounts ?? []).map((m): [string, string] => ["Mount", `${m.source} -> ${m.target}${m.readonly ? " (ro)" : ""}`]),
      ["Env", shed.envNames?.length ? shed.envNames.join(", ") : undefined],
      ["Provision", details.provisionLogs?.length ? `${details.provisionLogs.join(", ")} (logs in /var/log/shed)` : undefined],
      ["Created", shed.createdAt],
      ["Updated", shed.updatedAt],
      ["Error", shed.error],
      ...(shed.warnings ?? []).map((w): [string, string] => ["Warning", w]),
    ];
    await out.result(
      full,
      lines
        .filter(([, v]) => v !== undefined && v !== "")
        .map(([k, v]) => `${`${k}:`.padEnd(11)}${v}`)
        .join("\n"),
      { format: args.format },
    );
  },
});
