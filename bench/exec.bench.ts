/**
 * Exec figures beside docker exec into the very same container, one run:
 *   `shed exec <shed> true` vs `docker exec <ctr> true` (whole process each)
 *   `shed exec <shed> cat <1 GiB file> > /dev/null` vs the same with docker exec
 */
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
  await compareRates({
    name: `exec cat ${MIB === 1024 ? "1 GiB" : `${MIB} MiB`} > /dev/null (throughput)`,
    peerName: "docker exec",
    runs: Number(process.env.BENCH_RATE_RUNS ?? 3),
    bytes: GIB,
    ours: () => run([bin, "exec", "bx", "cat", "/tmp/big"], { env }),
    peer: () => run(["docker", "exec", ctr, "cat", "/tmp/big"]),
    accel: "container (docker)",
    target: ">= 1.2x",
  });
} finally {
  await server.stop();
  cleanupDocker();
}
