/**
 * Exec figures beside docker exec into the very same container, one run:
 *   `shed exec <shed> true` vs `docker exec <ctr> true` (whole process each)
 *   `shed exec <shed> cat <1 GiB file> > /dev/null` vs the same with docker exec (download)
 *   `shed exec <shed> sh -c 'cat > /dev/null' < <1 GiB file>` vs `docker exec -i` (upload)
 * The throughput rows note the CPU shed-server spent per GiB relayed (the relay's own cost).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanupDocker, ensureTestImage, namePrefix, startServer } from "../test/harness/index.ts";
import { compareRates, compareTimes, run } from "./lib.ts";

const image = await ensureTestImage("debian");
const server = await startServer({ config: { docker: { default_image: image } } });
const env = { SHED_CONFIG_DIR: server.configDir };
const bin = new URL("../dist/shed", import.meta.url).pathname;
const ctr = `${namePrefix}bx`;
// 1 GiB by default; BENCH_EXEC_MIB makes it smaller on a busy machine (the row says the size).
const MIB = Number(process.env.BENCH_EXEC_MIB ?? 1024);
const GIB = MIB * 1024 * 1024;
const size = MIB === 1024 ? "1 GiB" : `${MIB} MiB`;
const runs = Number(process.env.BENCH_RATE_RUNS ?? 3);
const scratch = mkdtempSync(join(tmpdir(), "shed-bench-exec-"));

/** CPU seconds (user + system) shed-server has used so far, from /proc (Linux). */
function serverCpuSeconds(): number {
  try {
    const fields = readFileSync(`/proc/${server.pid}/stat`, "utf8").replace(/^.*\) /, "").split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** Runs `ours` and adds the server's CPU for it to `acc` (seconds). */
function metered(acc: { s: number }, ours: () => Promise<void>): () => Promise<void> {
  return async () => {
    const before = serverCpuSeconds();
    await ours();
    acc.s += serverCpuSeconds() - before;
  };
}

const cpuNote = (acc: { s: number }) =>
  Number.isFinite(acc.s) ? `shed-server CPU ${((acc.s / runs) * (1024 / MIB)).toFixed(2)} s per GiB relayed` : undefined;

try {
  await run([bin, "create", "bx"], { env });
  await compareTimes({
    name: "exec true (latency, median)",
    peerName: "docker exec",
    runs: Number(process.env.BENCH_RUNS ?? 25),
    warmup: 3,
    ours: () => run([bin, "exec", "bx", "true"], { env }),
    peer: () => run(["docker", "exec", ctr, "true"]),
    accel: "container (docker)",
    target: "<= 0.5x",
  });
  await run(["docker", "exec", ctr, "sh", "-c", `head -c ${GIB} /dev/zero > /tmp/big`]);
  const down = { s: 0 };
  await compareRates({
    name: `exec cat ${size} > /dev/null (throughput)`,
    peerName: "docker exec",
    runs,
    bytes: GIB,
    ours: metered(down, () => run([bin, "exec", "bx", "cat", "/tmp/big"], { env })),
    peer: () => run(["docker", "exec", ctr, "cat", "/tmp/big"]),
    accel: "container (docker)",
    target: ">= 1.2x",
    noteAfter: () => cpuNote(down),
  });
  await run(["docker", "exec", ctr, "rm", "/tmp/big"]);
  const upload = join(scratch, "big");
  await run(["sh", "-c", `head -c ${GIB} /dev/zero > ${upload}`]);
  const up = { s: 0 };
  await compareRates({
    name: `exec stdin ${size} -> cat > /dev/null (throughput)`,
    peerName: "docker exec -i",
    runs,
    bytes: GIB,
    ours: metered(up, () => run([bin, "exec", "bx", "--", "sh", "-c", "cat > /dev/null"], { env, stdin: upload })),
    peer: () => run(["docker", "exec", "-i", ctr, "sh", "-c", "cat > /dev/null"], { stdin: upload }),
    accel: "container (docker)",
    target: ">= 1.2x",
    noteAfter: () => cpuNote(up),
  });
} finally {
  rmSync(scratch, { recursive: true, force: true });
  await server.stop();
  cleanupDocker();
}
