/**
 * Lifecycle figures beside Docker's own, one run:
 *   shed create (returns when the agent answers) vs docker run -d of the same image
 *   shed list vs docker ps
 */
import { cleanupDocker, ensureTestImage, namePrefix, runId, startServer } from "../test/harness/index.ts";
import { compareTimes, median, run } from "./lib.ts";

const image = await ensureTestImage("debian");
const server = await startServer();
const env = { SHED_CONFIG_DIR: server.configDir };
const bin = new URL("../dist/shed", import.meta.url).pathname;
let i = 0;
try {
  const runs = Number(process.env.BENCH_RUNS ?? 10);
  // Ours with --timings --json: the phases of every timed create, their medians in the note.
  const phases: Record<string, number>[] = [];
  await compareTimes({
    name: "create + ready (debian image)",
    peerName: "docker run -d",
    runs,
    warmup: 1,
    accel: "container (docker)",
    target: "<= 1.0x",
    ours: async () => {
      const p = Bun.spawn([bin, "create", `bench-${i++}`, "--image", image, "--timings", "--json"], { stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
      const [code, out] = await Promise.all([p.exited, new Response(p.stdout).text()]);
      if (code !== 0) throw new Error(`shed create exited ${code}: ${await new Response(p.stderr).text()}`);
      phases.push((JSON.parse(out) as { timings: Record<string, number> }).timings);
    },
    peer: async () => {
      await run(["docker", "run", "-d", "--label", "shed.test=1", "--label", `shed.test.run=${runId}`, "--name", `${namePrefix}peer-${i}`, image, "sleep", "infinity"]);
    },
    get note() {
      return `create phases (median ms): ${Object.keys(phases[0] ?? {})
        .map((k) => `${k} ${median(phases.map((p) => p[k] ?? 0)).toFixed(0)}`)
        .join(", ")}`;
    },
  });
  await compareTimes({
    name: `list (${i} sheds)`,
    peerName: "docker ps",
    runs: 20,
    accel: "container (docker)",
    ours: () => run([bin, "list"], { env }),
    peer: () => run(["docker", "ps"]),
  });
} finally {
  await server.stop();
  cleanupDocker();
}
