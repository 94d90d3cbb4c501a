/**
 * Scale and memory figures beside Docker's own, one run, one server on the docker backend:
 *   50 concurrent `shed exec <shed> true` vs 50 concurrent `docker exec <ctr> true` (p50, p99, total)
 *   `shed list` with N sheds (default 200) vs `docker ps` listing the same N containers
 *   RSS of shed-agent idle in a shed vs one containerd-shim (what Docker adds per container)
 *   RSS of shed-server idle with 10 sheds + their agents vs dockerd + containerd + 10 shims
 * Every container is labelled shed.test=1 (and this run's id); cleanup removes exactly those.
 */
import { readFileSync } from "node:fs";
import { cleanupDocker, ensureTestImage, namePrefix, runId, startServer } from "../test/harness/index.ts";
import { compareTimes, comparison, percentile, report, run } from "./lib.ts";

const image = await ensureTestImage("debian");
const server = await startServer({ config: { log_level: "info", docker: { default_image: image } } });
const env = { SHED_CONFIG_DIR: server.configDir };
const bin = new URL("../dist/shed", import.meta.url).pathname;
const accel = "container (docker)";
const N = Number(process.env.BENCH_LIST_SHEDS ?? 200);
const CONCURRENT = Number(process.env.BENCH_CONCURRENT ?? 50);
const sh = (argv: string[]) => Bun.spawnSync(argv).stdout.toString().trim();

/** Resident set of a process in MB (VmRSS). */
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;
const containerId = (name: string) => sh(["docker", "inspect", "-f", "{{.Id}}", name]);
/** The agent of a shed's container (the loader-run process, not docker-init), found by cgroup. */
function agentPid(name: string): number {
  const id = containerId(`${namePrefix}${name}`);
  const pid = sh(["pgrep", "-f", "shed-agent serve"])
    .split("\n")
    .find((p) => {
      try {
        return readFileSync(`/proc/${p}/cgroup`, "utf8").includes(id) && !readFileSync(`/proc/${p}/cmdline`, "utf8").includes("docker-init");
      } catch {
        return false;
      }
    });
  if (!pid) throw new Error(`no shed-agent process for shed ${name}`);
  return Number(pid);
}
const shimPid = (name: string) => Number(sh(["pgrep", "-f", `containerd-shim-runc-v2 .*-id ${containerId(name)}`]).split("\n")[0]);

/** Runs `count` copies of an action at once; each one's time, and the whole. */
async function burst(count: number, action: () => Promise<void>): Promise<{ times: number[]; total: number }> {
  const t0 = performance.now();
  const times = await Promise.all(
    Array.from({ length: count }, async () => {
      const t = performance.now();
      await action();
      return performance.now() - t;
    }),
  );
  return { times, total: performance.now() - t0 };
}

try {
  await run([bin, "create", "s0"], { env });
  const peer = `${namePrefix}peer0`;
  await run(["docker", "run", "-d", "--label", "shed.test=1", "--label", `shed.test.run=${runId}`, "--name", peer, image, "sleep", "infinity"]);

  // Concurrency: interleaved bursts, the medians of each figure over the rounds.
  const ours: { times: number[]; total: number }[] = [];
  const theirs: { times: number[]; total: number }[] = [];
  for (let round = 0; round < Number(process.env.BENCH_BURSTS ?? 3); round++) {
    ours.push(await burst(CONCURRENT, () => run([bin, "exec", "s0", "true"], { env })));
    theirs.push(await burst(CONCURRENT, () => run(["docker", "exec", peer, "true"])));
  }
  const all = (xs: { times: number[] }[]) => xs.flatMap((x) => x.times);
  const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const [label, f] of [
    ["p50", (xs: { times: number[] }[]) => percentile(all(xs), 50)],
    ["p99", (xs: { times: number[] }[]) => percentile(all(xs), 99)],
    ["total", (xs: { total: number }[]) => mid(xs.map((x) => x.total))],
  ] as const) {
    report(comparison({ name: `${CONCURRENT} concurrent exec true, ${label}`, peerName: `${CONCURRENT} docker exec`, accel }, "ms", f(ours as never), f(theirs as never), "lower"));
  }

  // Memory, idle: one shed's agent vs one container's shim; then 10 sheds.
  await Bun.sleep(2000);
  report(
    comparison(
      { name: "agent idle RSS (one shed)", peerName: "containerd-shim of one container", accel, target: "<= 35 MB" },
      "MB",
      rssMb(agentPid("s0")),
      rssMb(shimPid(peer)),
      "lower",
    ),
  );
  const names = Array.from({ length: 9 }, (_, i) => `s${i + 1}`);
  for (let i = 0; i < names.length; i += 3) await Promise.all(names.slice(i, i + 3).map((n) => run([bin, "create", n], { env })));
  const peers = Array.from({ length: 9 }, (_, i) => `${namePrefix}peer${i + 1}`);
  for (const p of peers) await run(["docker", "run", "-d", "--label", "shed.test=1", "--label", `shed.test.run=${runId}`, "--name", p, image, "sleep", "infinity"]);
  await Bun.sleep(3000);
  const sheds = ["s0", ...names];
  const oursMb = rssMb(server.pid) + sheds.reduce((n, s) => n + rssMb(agentPid(s)), 0);
  const dockerd = Number(sh(["pgrep", "-x", "dockerd"]).split("\n")[0]);
  const containerd = Number(sh(["pgrep", "-x", "containerd"]).split("\n")[0]);
  const peerMb = rssMb(dockerd) + rssMb(containerd) + [peer, ...peers].reduce((n, p) => n + rssMb(shimPid(p)), 0);
  report(
    comparison(
      {
        name: "server + 10 agents idle RSS (10 sheds)",
        peerName: "dockerd + containerd + 10 shims",
        accel,
        note: `shed-server alone ${rssMb(server.pid).toFixed(0)} MB; dockerd ${rssMb(dockerd).toFixed(0)} MB, containerd ${rssMb(containerd).toFixed(0)} MB (both also serve every other container on this host)`,
      },
      "MB",
      oursMb,
      peerMb,
      "lower",
    ),
  );

  // List: N sheds (N containers of this run, all labelled), shed list vs docker ps of them.
  const more = Array.from({ length: Math.max(0, N - sheds.length) }, (_, i) => `l${i}`);
  for (let i = 0; i < more.length; i += 8) await Promise.all(more.slice(i, i + 8).map((n) => run([bin, "create", n], { env })));
  const count = Number(sh(["sh", "-c", `docker ps -q --filter label=shed.test.run=${runId} | wc -l`]));
  await compareTimes({
    name: `list (${sheds.length + more.length} sheds)`,
    peerName: `docker ps (${count} containers)`,
    runs: 10,
    accel,
    ours: () => run([bin, "list"], { env }),
    peer: () => run(["docker", "ps", "--filter", `label=shed.test.run=${runId}`]),
  });
} finally {
  await server.stop();
  cleanupDocker();
}
