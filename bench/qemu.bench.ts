/**
 * QEMU sheds beside plain QEMU, one run each, same accelerator, same kernel, initramfs and
 * disks (the base guest image's erofs root + a fresh ext4 upper):
 *   create-to-ready: `shed create` until the agent answers, vs `qemu-system-x86_64` started
 *                    by hand until systemd reports multi-user.target on the console
 *   stop:            `shed stop` (agent drain + ACPI power-off) vs ACPI power-off over QMP
 * Target: ours at most 1.1x plain QEMU's.
 *
 * Accelerator: SHED_QEMU_ACCEL=auto|kvm|tcg (default auto: KVM when the image's kernel boots
 * on it, else TCG; decided in the server's own accel cache, so both sides use the same). On a KVM host run `SHED_QEMU_ACCEL=kvm bun bench/run.ts qemu` (or `make bench`):
 * there the create-to-ready figure should be under 2 s.
 *
 * Both run in a network namespace the bench made (shed's default, isolated VM network makes
 * a bridge and nftables rules): ours with its tap on shed's bridge, confined (unprivileged,
 * seccomp); plain QEMU as a person starts it (root, in the foreground) with the same
 * devices, the same descriptors, a tap of its own, and its console on the same kind of file.
 */
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chooseAccel } from "../src/backends/qemu/accel.ts";
import { defaultBinary, qemuArgs, VM_FDS } from "../src/backends/qemu/command.ts";
import { listenUnixFd } from "../src/backends/qemu/unix-listener.ts";
import { makeUpperDisk } from "../src/backends/vm-boot/upper-disk.ts";
import { storeImageSource } from "../src/backends/image-source.ts";
import { prepareBootImage } from "../src/backends/vm-boot/boot-image.ts";
import { importLayoutRef, openContentStore } from "../src/oci/store/index.ts";
import { qmpOnce } from "../src/backends/qemu/qmp.ts";
import { startServer } from "../test/harness/index.ts";
import { makeTestNetwork, netnsMissing } from "../test/harness/netns.ts";
import { baseImage, vmTestsMissing } from "../test/qemu/guest-image.ts";
import { report } from "./lib.ts";

if (vmTestsMissing()) process.exit(0);
if (netnsMissing()) {
  console.warn(`skipped: the qemu bench needs ${netnsMissing()}`);
  process.exit(0);
}
const binary = defaultBinary();
const setting = (process.env.SHED_QEMU_ACCEL ?? "auto") as "auto" | "kvm" | "tcg";
const scratch = mkdtempSync(join(tmpdir(), "shed-bench-qemu-"));

const { ref } = await baseImage();
const net = makeTestNetwork();
const server = await startServer({
  netns: net.host,
  config: {
    enabled_backends: ["qemu"],
    default_backend: "qemu",
    qemu: { accel: setting, default_cpus: 2, default_memory_mb: 1024, stop_timeout: 120 },
  },
});
const env = { SHED_CONFIG_DIR: server.configDir };
const bin = new URL("../dist/shed", import.meta.url).pathname;
const PLAIN_TAP = "plaintap0";

try {
  // The image's erofs root is made once per image (in the server's store, as shed would);
  // neither side pays for it here.
  const store = openContentStore(join(server.stateDir, "images"));
  const images = storeImageSource({ store, stateDir: server.stateDir, compression: "none", resolve: (layoutRef, progress) => importLayoutRef(store, layoutRef, progress) });
  const boot = await prepareBootImage(images, ref, join(server.stateDir, "qemu", "boot"), () => {});
  const { accel, reason } = await chooseAccel(setting, binary, join(server.stateDir, "qemu", "accel.json"), boot.kernel);
  console.log(`accelerator: ${accel}${reason ? ` (${reason})` : ""}`);

  // Plain QEMU: the same command line shed uses, in the foreground, with its own tap (opened
  // by name inside the namespace: never from here, where TUNSETIFF would make a tap in this
  // machine's namespace) and the descriptors shed's launcher would pass.
  const plainDir = join(scratch, "plain");
  mkdirSync(plainDir, { recursive: true });
  const layout = {
    dir: plainDir,
    upper: join(plainDir, "upper.ext4"),
    lower: boot.lower,
    kernel: boot.kernel,
    initrd: boot.initrd,
    console: join(plainDir, "console.log"),
    pidFile: join(plainDir, "qemu.pid"),
    qmpSocket: join(plainDir, "qmp.sock"),
  };
  net.host.run(["ip", "tuntap", "add", "dev", PLAIN_TAP, "mode", "tap"]);
  net.host.run(["ip", "link", "set", PLAIN_TAP, "up"]);
  const settings = { name: "plain", cpus: 2, memoryMb: 1024, accel, extraArgs: ["systemd.show_status=1"], nic: { tap: PLAIN_TAP, mac: "52:54:00:00:00:01" } };
  const args = qemuArgs(settings, layout).map((a) => (a === `tap,id=net0,fd=${VM_FDS.tap}` ? `tap,id=net0,ifname=${PLAIN_TAP},script=no,downscript=no` : a));

  let t = performance.now();
  await makeUpperDisk(layout.upper, 20 * 1024 ** 3);
  const fds = [
    openSync(layout.upper, "r+"),
    openSync(layout.upper, "r"),
    openSync(layout.lower, "r"),
    openSync(layout.console, "a"),
    openSync(layout.kernel, "r"),
    openSync(layout.initrd, "r"),
    await listenUnixFd(layout.qmpSocket),
  ];
  const plain = Bun.spawn(net.host.wrap([binary, ...args]), { stdio: ["ignore", "ignore", "pipe", ...fds] } as never);
  for (const fd of fds) closeSync(fd);
  await waitForConsole(layout.console, /Reached target.*[Mm]ulti-[Uu]ser/, plain, 600_000);
  const plainBoot = performance.now() - t;
  t = performance.now();
  await qmpOnce(layout.qmpSocket, "system_powerdown");
  await plain.exited;
  const plainStop = performance.now() - t;

  t = performance.now();
  await run([bin, "create", "bench-vm", "--image", ref], env);
  const oursBoot = performance.now() - t;
  t = performance.now();
  await run([bin, "stop", "bench-vm"], env);
  const oursStop = performance.now() - t;
  await run([bin, "delete", "bench-vm", "--force"], env);

  const target = "<= 1.1x";
  report({ name: `create to ready (${accel})`, unit: "ms", ours: oursBoot, peer: plainBoot, peerName: "plain qemu to multi-user", ratio: oursBoot / plainBoot, better: "lower", target, accel: `${accel}${reason ? ` (${reason})` : ""}` });
  report({ name: `stop (${accel})`, unit: "ms", ours: oursStop, peer: plainStop, peerName: "plain qemu ACPI off", ratio: oursStop / plainStop, better: "lower", target, accel: `${accel}${reason ? ` (${reason})` : ""}` });
} finally {
  await server.stop();
  await net.remove();
  if (existsSync(scratch)) rmSync(scratch, { recursive: true, force: true });
}

async function run(argv: string[], env: Record<string, string>): Promise<void> {
  const p = Bun.spawn(server.wrap(argv), { stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
  const code = await p.exited;
  if (code !== 0) throw new Error(`${argv.join(" ")} exited ${code}: ${await new Response(p.stderr).text()}`);
}

/** Reads the console log as it grows until a line matches (QEMU's own errors end the wait). */
async function waitForConsole(path: string, re: RegExp, proc: { exitCode: number | null; stderr: unknown }, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (existsSync(path) && re.test(readFileSync(path, "utf8"))) return;
    if (proc.exitCode !== null) {
      throw new Error(`plain QEMU ended before multi-user.target: ${await new Response(proc.stderr as ReadableStream).text()}`);
    }
    await Bun.sleep(20);
  }
  throw new Error("plain QEMU did not reach multi-user.target in time");
}
