/**
 * Firecracker sheds through the Firecracker stand-in beside plain QEMU booting the same
 * kernel (vmlinux), initramfs and disks on the same machine type (q35, TCG: the stand-in's
 * own command line, test/firecracker/standin/vm.ts), one run each:
 *   create-to-ready: `shed create` until the agent answers vs plain QEMU until systemd
 *                    reports multi-user.target on the console (target <= 1.1x)
 *   delete (running): `shed delete --force` of a running shed vs SIGKILL of plain QEMU and
 *                    removing its dir (target < 2 s)
 * No network device on either side (the bench makes no namespace).
 *
 * On a KVM host with the real Firecracker (README, "Measuring on a KVM host"):
 * SHED_FC_BENCH_BINARY=/usr/local/bin/firecracker SHED_FC_KERNEL=dist/vmlinux-fc
 * SHED_QEMU_ACCEL=kvm runs ours through it and the peer under KVM (the original: ~1.8 s to ready).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { storeImageSource } from "../src/backends/image-source.ts";
import { prepareBootImage } from "../src/backends/vm-boot/boot-image.ts";
import { makeUpperDisk } from "../src/backends/vm-boot/upper-disk.ts";
import { importLayoutRef, openContentStore } from "../src/oci/store/index.ts";
import { standinBinary, testVmlinux } from "../test/firecracker/harness.ts";
import { AGENT_PORT_NAME, CONSOLE_CHARDEV, qemuArgs } from "../test/firecracker/standin/vm.ts";
import { startServer } from "../test/harness/index.ts";
import { baseImage, vmTestsMissing } from "../test/qemu/guest-image.ts";
import { report } from "./lib.ts";

if (vmTestsMissing()) process.exit(0);
const scratch = mkdtempSync(join(tmpdir(), "shed-bench-fc-"));
const { ref } = await baseImage();
const kernel = await testVmlinux();
const server = await startServer({
  config: {
    enabled_backends: ["firecracker"],
    default_backend: "firecracker",
    firecracker: { binary: process.env.SHED_FC_BENCH_BINARY ?? standinBinary(join(scratch, "bin"), join(scratch, "requests")), jailer: false, kernel_path: kernel, network: "none", default_cpus: 2, default_memory_mb: 1024, start_timeout: 900 },
  },
});
const env = { SHED_CONFIG_DIR: server.configDir };
const bin = new URL("../dist/shed", import.meta.url).pathname;

try {
  const store = openContentStore(join(server.stateDir, "images"));
  const images = storeImageSource({ store, stateDir: server.stateDir, resolve: (layoutRef, progress) => importLayoutRef(store, layoutRef, progress) });
  const boot = await prepareBootImage(images, ref, join(server.stateDir, "firecracker", "boot"), () => {}, null);

  const plainDir = join(scratch, "plain");
  mkdirSync(plainDir, { recursive: true });
  const upper = join(plainDir, "upper.ext4");
  const console = join(plainDir, "console.log");
  const args = qemuArgs(
    {
      machine: { vcpu_count: 2, mem_size_mib: 1024 },
      boot: { kernel_image_path: kernel, initrd_path: boot.initrd, boot_args: "console=ttyS0 reboot=k panic=1 shed.name=plain systemd.show_status=1" },
      drives: [
        { drive_id: "upper", path_on_host: upper, is_root_device: false, is_read_only: false },
        { drive_id: "lower", path_on_host: boot.lower, is_root_device: false, is_read_only: true },
      ],
      nets: [],
      vsockPort: { name: AGENT_PORT_NAME, socket: join(plainDir, "serial.sock") },
    },
    plainDir,
  )
    .map((a) => (a === CONSOLE_CHARDEV ? `file,id=console,path=${console},append=on` : a))
    .map((a) => (a === "tcg" && process.env.SHED_QEMU_ACCEL === "kvm" ? "kvm" : a));

  let t = performance.now();
  await makeUpperDisk(upper, 5 * 1024 ** 3);
  const plain = Bun.spawn(["qemu-system-x86_64", ...args], { stdio: ["ignore", "ignore", "pipe"] });
  // A failed wait must not leave the VM running after the bench.
  await waitForConsole(console, /Reached target.*[Mm]ulti-[Uu]ser/, plain, 900_000).catch((err) => {
    plain.kill("SIGKILL");
    throw err;
  });
  const plainBoot = performance.now() - t;
  t = performance.now();
  plain.kill("SIGKILL");
  await plain.exited;
  rmSync(plainDir, { recursive: true, force: true });
  const plainDelete = performance.now() - t;

  t = performance.now();
  await run([bin, "create", "bench-fc", "--image", ref], env);
  const oursBoot = performance.now() - t;
  t = performance.now();
  await run([bin, "delete", "bench-fc", "--force"], env);
  const oursDelete = performance.now() - t;

  report({ name: "create to ready (stand-in, tcg)", unit: "ms", ours: oursBoot, peer: plainBoot, peerName: "plain qemu to multi-user", ratio: oursBoot / plainBoot, better: "lower", target: "<= 1.1x" });
  report({ name: "delete of a running shed", unit: "ms", ours: oursDelete, peer: plainDelete, peerName: "SIGKILL + rm", ratio: oursDelete / plainDelete, better: "lower", target: "<= 2000 ms" });
} finally {
  await server.stop();
  if (existsSync(scratch)) rmSync(scratch, { recursive: true, force: true });
}

async function run(argv: string[], env: Record<string, string>): Promise<void> {
  const p = Bun.spawn(argv, { env: { ...process.env, ...env }, stdout: "ignore", stderr: "pipe" });
  const code = await p.exited;
  if (code !== 0) throw new Error(`${argv.join(" ")} failed (${code}): ${await new Response(p.stderr).text()}`);
}

async function waitForConsole(file: string, pattern: RegExp, proc: ReturnType<typeof Bun.spawn>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (existsSync(file) && pattern.test(readFileSync(file, "utf8"))) return;
    if (proc.exitCode !== null) throw new Error(`plain QEMU exited (${proc.exitCode}): ${await new Response(proc.stderr as ReadableStream).text()}`);
    await Bun.sleep(50);
  }
  throw new Error(`no ${pattern} on ${file} within ${timeoutMs / 1000}s`);
}
