/**
 * Lifecycle figures beside Docker's own, one run:
 *   shed create (returns when the agent answers) vs docker run -d of the same image
 *   shed list vs docker ps
 */
import { cleanupDocker, ensureTestImage, namePrefix, runId, startServer } from "../test/harness/index.ts";
import { compareTimes, run } from "./lib.ts";

const image = await ensureTestImage("debian");
const server = await startServer();
const env = { SHED_CONFIG_DIR: server.configDir };
const bin = new URL("../dist/shed", import.meta.url).pathname;
let i = 0;
try {
  const runs = Number(process.env.BENCH_RUNS ?? 10);
  await compareTimes({
    name: "create + ready (debian image)",
    peerName: "docker run -d",
    runs,
    warmup: 1,
    ours: async () => {
      await run([bin, "create", `bench-${i++}`, "--image", image], { env });
    },
    peer: async () => {
      await run(["docker", "run", "-d", "--label", "shed.test=1", "--label", `shed.test.run=${runId}`, "--name", `${namePrefix}peer-${i}`, image, "sleep", "infinity"]);
    },
  });
  await compareTimes({
    name: `list (${i} sheds)`,
    peerName: "docker ps",
    runs: 20,
    ours: () => run([bin, "list"], { env }),
    peer: () => run(["docker", "ps"]),
  });
} finally {
  await server.stop();
  cleanupDocker();
}
