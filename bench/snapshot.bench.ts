/**
 * Snapshots (issue 17), each beside its peer in one run, interleaved:
 *   snapshot create of a stopped shed with 1 GB written in it  vs  `cp --reflink=auto` of
 *     the same file (the VM's upper disk; on Docker the 1 GB file in the container's layer)
 *     target <= 1.2x
 *   create --from-snapshot to ready  vs  create from the image to ready      target <= 1.1x
 * Docker always (when the engine runs); QEMU when VM tests can run here (in a network
 * namespace the bench made, accel from SHED_QEMU_ACCEL, default tcg: /dev/kvm hangs here).
 * BENCH_RUNS (default 3 on Docker, 1 on QEMU) runs per side; BENCH_ONLY=docker|qemu one of them.
 */
const only = process.env.BENCH_ONLY;
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanupDocker, dockerAvailable, ensureTestImage, namePrefix, startServer, type TestServer } from "../test/harness/index.ts";
import { makeTestNetwork, netnsMissing } from "../test/harness/netns.ts";
import { baseImage, vmTestsMissing } from "../test/qemu/guest-image.ts";
import { median, report } from "./lib.ts";

const bin = new URL("../dist/shed", import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), "shed-bench-snap-"));

async function sh(server: TestServer, argv: string[], wrap = true): Promise<string> {
  const p = Bun.spawn(wrap ? server.wrap(argv) : argv, { stdout: "pipe", stderr: "pipe", env: { ...process.env, SHED_CONFIG_DIR: server.configDir } });
  const [code, out, err] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  if (code !== 0) throw new Error(`${argv.join(" ")} exited ${code}: ${err}`);
  return out;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** The two comparisons on one server whose default backend is `label`'s. */
async function bench(label: string, server: TestServer, image: string, runs: number, fileOf: (server: TestServer) => string): Promise<void> {
  const shed = (...args: string[]) => sh(server, [bin, ...args]);
  await shed("create", "bsrc", "--image", image);
  await shed("exec", "bsrc", "-u", "root", "--", "sh", "-c", "head -c 1073741824 /dev/zero | tr '\\0' 'x' > /root/big && sync");
  await shed("stop", "bsrc");
  const file = fileOf(server);
  const ours: number[] = [];
  const peer: number[] = [];
  for (let i = 0; i < runs; i++) {
    ours.push(await timed(() => shed("snapshot", "create", "bsrc", `bsnap-${i}`)));
    peer.push(await timed(() => sh(server, ["cp", "--reflink=auto", file, join(scratch, `copy-${i}`)], false)));
    rmSync(join(scratch, `copy-${i}`), { force: true });
    if (i < runs - 1) await shed("snapshot", "delete", "-f", `bsnap-${i}`);
  }
  const snap = `bsnap-${runs - 1}`;
  const [o1, p1] = [median(ours), median(peer)];
  report({ name: `${label}: snapshot create (1 GB written)`, unit: "ms", ours: o1, peer: p1, peerName: "cp --reflink=auto", ratio: o1 / p1, better: "lower", target: "<= 1.2x" });

  // Both creates with --timings --json: their phases (median) in the note, to see where a difference goes.
  const spawn: number[] = [];
  const fresh: number[] = [];
  const phases: Record<"spawn" | "fresh", Record<string, number>[]> = { spawn: [], fresh: [] };
  const create = async (side: "spawn" | "fresh", ...args: string[]) => {
    phases[side].push((JSON.parse(await shed("create", ...args, "--no-sync", "--timings", "--json")) as { timings: Record<string, number> }).timings);
  };
  for (let i = 0; i < runs; i++) {
    spawn.push(await timed(() => create("spawn", `bspawn-${i}`, "--from-snapshot", snap)));
    fresh.push(await timed(() => create("fresh", `bfresh-${i}`, "--image", image)));
    await shed("delete", "-f", `bspawn-${i}`, `bfresh-${i}`);
  }
  const [o2, p2] = [median(spawn), median(fresh)];
  const phaseNote = (side: "spawn" | "fresh") =>
    Object.keys(phases[side][0] ?? {})
      .map((k) => `${k} ${median(phases[side].map((p) => p[k] ?? 0)).toFixed(0)}`)
      .join(", ");
  report({
    name: `${label}: create --from-snapshot to ready`,
    unit: "ms",
    ours: o2,
    peer: p2,
    peerName: "create from the image",
    ratio: o2 / p2,
    better: "lower",
    target: "<= 1.1x",
    note: `phases (median ms): from the snapshot ${phaseNote("spawn")}; from the image ${phaseNote("fresh")}`,
  });
  await shed("snapshot", "delete", "-f", snap);
  await shed("delete", "-f", "bsrc");
}

try {
  if (only === "qemu") console.warn("docker rows left out (BENCH_ONLY=qemu)");
  else if (dockerAvailable()) {
    const image = await ensureTestImage("debian");
    const server = await startServer({ config: { docker: { default_image: image } } });
    try {
      const runs = Number(process.env.BENCH_RUNS ?? 3);
      await bench("docker", server, image, runs, () => {
        const c = JSON.parse(Bun.spawnSync(["docker", "inspect", `${namePrefix}bsrc`]).stdout.toString())[0];
        return join(c.GraphDriver.Data.UpperDir, "root", "big");
      });
    } finally {
      await server.stop();
      cleanupDocker();
    }
  } else console.warn("skipped docker rows: no Docker engine");

  const vmMissing = only === "docker" ? "BENCH_ONLY=docker" : (vmTestsMissing() ?? netnsMissing());
  if (vmMissing) console.warn(`skipped qemu rows: ${vmMissing}`);
  else {
    const { ref } = await baseImage();
    const net = makeTestNetwork();
    const accel = process.env.SHED_QEMU_ACCEL ?? "tcg";
    const server = await startServer({
      netns: net.host,
      config: { enabled_backends: ["qemu"], default_backend: "qemu", qemu: { accel, default_cpus: 2, default_memory_mb: 1024, stop_timeout: 120, image_aliases: { base: ref } } },
    });
    try {
      await bench(`qemu (${accel})`, server, "base", Number(process.env.BENCH_RUNS ?? 1), (s) => join(s.stateDir, "qemu", "instances", "bsrc", "upper.ext4"));
    } finally {
      await server.stop();
      await net.remove();
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
