import { SYSTEM_API } from "../../api/endpoints/system.ts";
import type { SystemDf } from "../../api/schemas/system.ts";
import { acrossServers } from "../../cli/across-servers.ts";
import { defineCommand } from "../../cli/command.ts";
import { cli } from "../../cli/context.ts";
import { formatBytes } from "../../cli/output.ts";
import { renderTable } from "../../cli/table.ts";

export default defineCommand({
  meta: {
    name: "df",
    description: "Disk use per category: images (blobs, erofs roots), sheds, snapshots, logs, orphans",
    details:
      "LOGICAL is what the files say (du --apparent-size), PHYSICAL what the disk gives them (du): sparse disks count their data only, " +
      "and reflink-shared extents once. -v lists every item; --all asks every configured server.",
    examples: ["shed system df", "shed system df -v", "shed system df --all --json"],
  },
  args: { all: { type: "boolean", alias: "a", description: "Every configured server (queried in parallel)" } },
  async run({ args }) {
    const { out, globals } = cli();
    const verbose = globals.verbose ? ("true" as const) : undefined;
    const reports: SystemDf[] = await acrossServers(args.all, async (client) => [
      { ...(await client.call(SYSTEM_API.getSystemDf, { query: { verbose } })), server: client.endpoint.name },
    ]);
    await out.result(args.all ? { servers: reports } : reports[0]!, reports.map((r) => human(r, args.all, Boolean(verbose))).join("\n\n"));
  },
});

function human(df: SystemDf, named: boolean | undefined, verbose: boolean): string {
  const rows = df.categories.map((c) => ({
    category: c.category.toUpperCase(),
    count: c.category === "other" ? "" : String(c.count),
    logical: formatBytes(c.logicalBytes),
    physical: formatBytes(c.physicalBytes),
    reclaimable: c.reclaimableBytes ? formatBytes(c.reclaimableBytes) : "0",
  }));
  rows.push({ category: "TOTAL", count: "", logical: formatBytes(df.totals.logicalBytes), physical: formatBytes(df.totals.physicalBytes), reclaimable: formatBytes(df.totals.reclaimableBytes) });
  const lines = [
    ...(named ? [`${df.server}:`] : []),
    renderTable(rows, [
      { key: "category", name: "TYPE" },
      { key: "count", name: "COUNT" },
      { key: "logical", name: "LOGICAL" },
      { key: "physical", name: "PHYSICAL" },
      { key: "reclaimable", name: "RECLAIMABLE" },
    ]),
  ];
  if (df.sharedBytes > 0) lines.push(`Reflink-shared extents are counted once: the total is ${formatBytes(df.sharedBytes)} less than the sum per file.`);
  const external = df.categories.flatMap((c) => (c.items ?? []).filter((i) => i.external).map((i) => ({ ...i, category: c.category })));
  if (verbose) {
    for (const c of df.categories) {
      for (const i of c.items ?? []) lines.push(`  ${c.category.padEnd(9)} ${i.name.padEnd(40)} ${formatBytes(i.logicalBytes).padStart(9)} ${formatBytes(i.physicalBytes).padStart(9)}${i.external ? " (engine)" : ""}`);
    }
  } else if (external.length) {
    lines.push(`Besides the state dir, the container engine holds ${formatBytes(external.reduce((n, i) => n + i.physicalBytes, 0))} for these sheds and snapshots (-v lists them).`);
  }
  for (const u of df.unreadable ?? []) lines.push(`unreadable: ${u}`);
  return lines.join("\n");
}
