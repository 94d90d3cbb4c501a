/**
 * `make bench`: runs every bench/*.bench.ts in turn (each prints its rows: ours, the peer's,
 * the ratio). `bun bench/run.ts exec` runs only the files whose name contains "exec".
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";

const filter = process.argv[2];
const files = readdirSync(import.meta.dirname)
  .filter((f) => f.endsWith(".bench.ts") && (!filter || f.includes(filter)))
  .sort();
let failed = 0;
for (const file of files) {
  console.log(`\n== ${file}`);
  const p = Bun.spawn([process.execPath, join(import.meta.dirname, file)], { stdout: "inherit", stderr: "inherit" });
  if ((await p.exited) !== 0) failed++;
}
process.exit(failed ? 1 : 0);
