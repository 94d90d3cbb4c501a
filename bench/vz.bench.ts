/**
 * vz sheds through the vfkit stand-in (test/vz/standin: QEMU under TCG standing in for VZ),
 * each figure beside its peer in one run:
 *   create-to-ready:  warm `shed create` (boot image and template made) with the template vs
 *                     without it (vz.upper_template false)
 *   vs plain QEMU:    the stand-in's own QEMU command line for that shed, started by hand on a
 *                     fresh clone of the same disks, until its agent answers health (the same
 *                     readiness the server waits for, dialed the same way); the shed's figure is
 *                     split at the stand-in's own timestamps (server before vfkit, the stand-in
 *                     up to QEMU's spawn, QEMU to the create's end) to say where the rest goes
 * Target: create-to-ready at most 1.1x plain QEMU. The upper's own part (template vs mkfs) is
 * bench/vz-upper.bench.ts.
 *
 * Only a Mac gives the real figures (VZ boots in about a second; TCG here takes minutes, so
 * here the upper's share is small beside the boot). This file's setup is Linux's (the base
 * image by debootstrap, the stand-in): README.md, "Sheds on macOS (VZ)", says how to take the
 * same figures by hand on an Apple Silicon Mac with real vfkit.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { agentDialer } from "../src/backends/agent-dial.ts";
import { waitForAgent } from "../src/backends/agent-wait.ts";
import { storeImageSource } from "../src/backends/image-source.ts";
import { silentLogger } from "../src/log/logger.ts";
import { prepareBootImage } from "../src/backends/vm-boot/boot-image.ts";
import { upperFromTemplate } from "../src/backends/vm-boot/upper-template.ts";
import { cloneFile } from "../src/fs/clone-file.ts";
import { importLayoutRef, openContentStore } from "../src/oci/store/index.ts";
import { startServer, type TestServer } from "../test/harness/index.ts";
import { baseImage, vmTestsMissing } from "../test/qemu/guest-image.ts";
import { installStandin, standinMissing } from "../test/vz/standin/install.ts";
import { report } from "./lib.ts";

const skip = vmTestsMissing() ?? standinMissing();
if (skip) {
  console.warn(`vz bench ${skip}`);
  process.exit(0);
}
const SIZE = 5 * 1024 ** 3;
// The server's and the warm-up's erofs lower must be the same file: an lz4hc one warmed while
// the server wants `-none.erofs` (its default) left the "warm" create building a 570 MB root.
const COMPRESSION = "none" as const;
const scratch = mkdtempSync(join(tmpdir(), "shed-bench-vz-"));
const bin = new URL("../dist/shed", import.meta.url).pathname;
const standin = installStandin(scratch);
const vfkit = standin.path;
const { ref } = await baseImage();
const servers: TestServer[] = [];

async function run(argv: string[], env: Record<string, string>): Promise<void> {
  const p = Bun.spawn(argv, { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  if (code !== 0) throw new Error(`${argv.join(" ")} failed (${code}): ${out}${err}`);
}

/** A vz server whose boot image (and template, if it uses one) is already made: create measures the boot. */
async function warmServer(template: boolean): Promise<TestServer> {
  const server = await startServer({
    config: {
      enabled_backends: ["vz"],
      default_backend: "vz",
      rootfs_compression: COMPRESSION,
      vz: { vfkit_path: vfkit, upper_template: template, default_cpus: 2, default_memory_mb: 1024, start_timeout: 1200, stop_timeout: 60 },
    },
  });
  servers.push(server);
  const store = openContentStore(join(server.stateDir, "images"));
  const images = storeImageSource({ store, stateDir: server.stateDir, compression: COMPRESSION, resolve: (layoutRef, progress) => importLayoutRef(store, layoutRef, progress) });
  await prepareBootImage(images, ref, join(server.stateDir, "vz", "images", "boot"), () => {});
  if (template) {
    const warm = join(scratch, `warm-${server.port}.ext4`);
    await upperFromTemplate(warm, SIZE, join(server.stateDir, "vz", "images", "templates"));
    rmSync(warm);
  }
  return server;
}

/** Wall-clock start and length of a warm create (ms). */
async function createToReady(server: TestServer, name: string): Promise<{ start: number; ms: number }> {
  const start = Date.now();
  const t = performance.now();
  await run([bin, "create", name, "--image", ref], { SHED_CONFIG_DIR: server.configDir });
  return { start, ms: performance.now() - t };
}

try {
  // 2. Warm create-to-ready with the template vs without; the VM boots are the same.
  const withTemplate = await warmServer(true);
  const without = await warmServer(false);
  const created = await createToReady(withTemplate, "bench-t");
  const a = created.ms;
  const b = (await createToReady(without, "bench-m")).ms;
  report({ name: "warm create to ready", unit: "ms", ours: a, peer: b, peerName: "without template", ratio: a / b, better: "lower" });
  await run([bin, "delete", "bench-m", "--force"], { SHED_CONFIG_DIR: without.configDir });

  // 3. Plain QEMU on the same disks: the stand-in's QEMU argv for bench-t, by hand, on a fresh clone.
  const invocation = standin.events().filter((e) => e.event === "qemu").at(0);
  const invoked = standin.events().find((e) => e.event === "invoked");
  const at = (e: { time?: string } | undefined) => (e?.time ? Date.parse(e.time) - created.start : NaN);
  const split = { beforeVfkit: at(invoked), standinToQemu: at(invocation) - at(invoked), qemuToReady: a - at(invocation) };
  if (!invocation?.argv) {
    console.log("plain QEMU peer: the stand-in logged no QEMU argv");
  } else {
    const inst = join(withTemplate.stateDir, "vz", "instances", "bench-t");
    await run([bin, "delete", "bench-t", "--force"], { SHED_CONFIG_DIR: withTemplate.configDir });
    const plain = join(scratch, "plain");
    mkdirSync(plain);
    const upper = join(plain, "upper.ext4");
    await cloneFile(join(withTemplate.stateDir, "vz", "images", "templates", `upper-${SIZE}.ext4`), upper, 0o644, { durable: false });
    const console_ = join(plain, "console.log");
    const qmp = join(plain, "qmp.sock");
    const argv = invocation.argv.map((arg) =>
      arg
        .replace(join(inst, "upper.ext4"), upper)
        .replace(join(inst, "console.log"), console_)
        .replace(/unix:[^,]*qmp\.sock/, `unix:${qmp}`)
        .replace(/socket,id=(vsock\d+),path=[^,]*/, `socket,id=$1,path=${join(plain, "agent.sock")}`),
    );
    const agentSock = join(plain, "agent.sock");
    const dial = agentDialer(silentLogger);
    const t = performance.now();
    const p = Bun.spawn(["qemu-system-x86_64", ...argv], { stdout: "ignore", stderr: "pipe" });
    await waitForAgent({
      dial: () => dial(agentSock, { serial: true }),
      timeoutMs: 1_200_000,
      alive: async () => (p.exitCode === null ? undefined : `plain QEMU exited ${p.exitCode}: ${readFileSync(console_, "utf8").slice(-500)}`),
    });
    const plainBoot = performance.now() - t;
    p.kill("SIGKILL");
    await p.exited;
    const f = (n: number) => `${(n / 1000).toFixed(1)} s`;
    report({
      name: "create to ready (TCG, stand-in)",
      unit: "ms",
      ours: a,
      peer: plainBoot,
      peerName: "plain qemu to agent health",
      ratio: a / plainBoot,
      better: "lower",
      target: "<= 1.1x",
      note: `shed's create: ${f(split.beforeVfkit)} server and CLI before vfkit, ${f(split.standinToQemu)} stand-in start to QEMU, ${f(split.qemuToReady)} QEMU to ready (boot, agent dial, provisioning); plain QEMU ${f(plainBoot)}`,
    });
  }
} finally {
  for (const s of servers) {
    for (const name of ["bench-t", "bench-m"]) await run([bin, "delete", name, "--force"], { SHED_CONFIG_DIR: s.configDir }).catch(() => {});
    await s.stop();
  }
  rmSync(scratch, { recursive: true, force: true });
}
