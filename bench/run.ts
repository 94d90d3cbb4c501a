/**
 * `make bench`: runs every bench/*.bench.ts in turn (each prints its rows: ours, the peer's,
 * the ratio), then prints one summary table and writes it to bench/results/latest.json.
 * `bun bench/run.ts exec` runs only the files whose name contains "exec".
 *
 * The QEMU accelerator is decided once here with the server's own probe (KVM only when it
 * really boots a kernel, else TCG) and handed to every bench as SHED_QEMU_ACCEL.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, tmpdir } from "node:os";
import { join } from "node:path";
import { Accelerator, type AccelSetting, knownKernels } from "../src/backends/qemu/accel.ts";
import { defaultBinary } from "../src/backends/qemu/command.ts";
import { type BenchSummary, parseRows, renderSummary } from "./summary.ts";

const filter = process.argv[2];
// BENCH_SKIP=qemu,image leaves those out (a busy machine, no netns); the summary says so.
const skip = (process.env.BENCH_SKIP ?? "").split(",").filter(Boolean);
const dir = import.meta.dirname;
const all = readdirSync(dir).filter((f) => f.endsWith(".bench.ts") && (!filter || f.includes(filter)));
const files = all.filter((f) => !skip.some((s) => f.includes(s))).sort();
for (const f of all) if (!files.includes(f)) console.log(`skipped: ${f} (BENCH_SKIP)`);

const cache = process.env.SHED_TEST_CACHE ?? "/var/cache/shed-test";
mkdirSync(cache, { recursive: true });
const setting = (process.env.SHED_QEMU_ACCEL ?? "auto") as AccelSetting;
const accelerator = new Accelerator({ setting, binary: defaultBinary(), cacheFile: join(cache, "bench-accel.json"), kernels: () => knownKernels(cache) });
const chosen = (await accelerator.choose()) ?? { accel: "tcg", reason: "no kernel to test KVM with yet: TCG" };
console.log(`qemu accelerator: ${chosen.accel}${chosen.reason ? ` (${chosen.reason})` : ""}`);

const work = mkdtempSync(join(tmpdir(), "shed-bench-"));
const results = join(work, "rows.jsonl");
writeFileSync(results, "");
const failed: BenchSummary["failed"] = [];
for (const file of files) {
  console.log(`\n== ${file}`);
  const p = Bun.spawn([process.execPath, join(dir, file)], {
    stdout: "inherit",
    stderr: "pipe",
    env: { ...process.env, BENCH_RESULTS: results, SHED_QEMU_ACCEL: chosen.accel },
  });
  // stderr goes through as it comes, and its end is kept for the summary of a failure.
  let tail = "";
  for await (const chunk of p.stderr) {
    process.stderr.write(chunk);
    tail = (tail + new TextDecoder().decode(chunk)).slice(-2000);
  }
  const code = await p.exited;
  if (code !== 0) failed.push({ bench: file, error: `exited ${code}: ${lastLine(tail)}` });
}

const summary: BenchSummary = {
  at: new Date().toISOString(),
  commit: Bun.spawnSync(["git", "rev-parse", "--short", "HEAD"], { cwd: dir }).stdout.toString().trim() || "unknown",
  host: { cpus: cpus().length, load: loadavg(), kernel: release() },
  accel: chosen,
  rows: parseRows(readFileSync(results, "utf8")),
  failed,
};
rmSync(work, { recursive: true, force: true });
console.log(`\n${renderSummary(summary)}`);
mkdirSync(join(dir, "results"), { recursive: true });
// A run of some benches only (a filter) does not replace the full table.
const out = join(dir, "results", filter || skip.length ? `latest-${filter ?? "partial"}.json` : "latest.json");
writeFileSync(out, `${JSON.stringify(summary, null, 1)}\n`);
console.log(`written: ${out}`);
process.exit(failed.length ? 1 : 0);

function lastLine(text: string): string {
  return text.trim().split("\n").filter(Boolean).pop()?.slice(0, 300) ?? "";
}
