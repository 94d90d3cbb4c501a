/**
 * The summary of one `make bench`: every row (ours, the peer's, the ratio, the target and
 * whether it is met) as one table for people and one JSON document for tools.
 */
import { renderTable } from "../src/cli/table.ts";
import type { ResultRow } from "./lib.ts";

export interface BenchSummary {
  at: string;
  commit: string;
  host: { cpus: number; load: number[]; kernel: string };
  /** The QEMU accelerator the VM rows used, and why when it is not KVM. */
  accel: { accel: string; reason?: string };
  rows: ResultRow[];
  /** Bench files that failed (their rows are missing or partial). */
  failed: { bench: string; error: string }[];
}

export function parseRows(jsonLines: string): ResultRow[] {
  return jsonLines
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as ResultRow);
}

const fmt = (n: number) => (!Number.isFinite(n) ? "-" : n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));

export function renderSummary(s: BenchSummary): string {
  const rows = s.rows.map((r) => ({
    row: `${r.bench}: ${r.name}`,
    ours: `${fmt(r.ours)} ${r.unit}`,
    peer: `${r.peerName} ${fmt(r.peer)} ${r.unit}`,
    ratio: fmt(r.ratio),
    target: r.target,
    met: r.met ? "met" : "NOT MET",
    accel: r.accel ?? "",
  }));
  const table = renderTable(rows, [
    { key: "row", name: "ROW" },
    { key: "ours", name: "OURS" },
    { key: "peer", name: "PEER" },
    { key: "ratio", name: "RATIO" },
    { key: "target", name: "TARGET" },
    { key: "met", name: "MET" },
    { key: "accel", name: "ACCEL" },
  ]);
  const met = s.rows.filter((r) => r.met).length;
  const lines = [
    `== summary (${s.commit}, ${s.at}, load ${s.host.load.map((l) => l.toFixed(1)).join(" ")} on ${s.host.cpus} cpus; qemu accelerator: ${s.accel.accel}${s.accel.reason ? ` (${s.accel.reason})` : ""})`,
    table,
    `${met} of ${s.rows.length} rows meet their target`,
  ];
  for (const r of s.rows) if (r.note) lines.push(`  note ${r.bench}: ${r.name}: ${r.note}`);
  for (const f of s.failed) lines.push(`FAILED ${f.bench}: ${f.error}`);
  return lines.join("\n");
}
