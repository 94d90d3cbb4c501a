import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type TestServer } from "../harness/index.ts";
import { IMAGE_HOOK_MS, vmTestsMissing } from "../qemu/guest-image.ts";
import { firecrackerPid, instanceDir, requestLog, standinBinary, standinJailer, standinSection } from "./harness.ts";
import { jailPath } from "./standin/jail-path.ts";

/**
 * Firecracker under its jailer, through the jailer stand-in (standin/jailer.ts, the grammar
 * and refusals of v1.14.1's jailer) exec'ing the Firecracker stand-in, which resolves every
 * path it is given inside the jail. First the stand-in's own refusals; then the backend's
 * lifecycle jailed as nobody: the requests name the jail's paths, the cgroup limits are
 * applied where the host lets this process, re-adoption after a server kill -9, and the jail
 * and cgroups gone after stop and delete.
 */
const work = mkdtempSync(join(tmpdir(), "shed-fc-jailer-"));
// The jailed stand-in runs as nobody: it must reach its request log and the jails.
chmodSync(work, 0o755);
const logDir = join(work, "requests");
mkdirSync(logDir, { mode: 0o777 });
chmodSync(logDir, 0o777);
const firecracker = standinBinary(join(work, "bin"), logDir);
const jailer = standinJailer(join(work, "bin"));
const base = join(work, "jail");
mkdirSync(base);

afterAll(() => rmSync(work, { recursive: true, force: true }));

function jail(args: string[]) {
  const r = Bun.spawnSync([jailer, ...args], { stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, stderr: r.stderr.toString().trim() };
}
const ok = ["--exec-file", firecracker, "--uid", "0", "--gid", "0", "--chroot-base-dir", base];

describe("jailer stand-in: what v1.14.1's jailer refuses", () => {
  it.each([
    [["--exec-file", firecracker, "--uid", "0", "--gid", "0"], "Failed to parse arguments: Argument 'id' required, but not found."],
    [["--id", "a", "--exec-file", firecracker, "--uid", "0"], "Failed to parse arguments: Argument 'gid' required, but not found."],
    [["--id", "a", "--id", "b", ...ok], "Failed to parse arguments: The argument 'id' was provided more than once."],
    [["--id", ...ok], "Failed to parse arguments: The argument 'id' requires a value, but none was supplied."],
    [["--id", "a", "--bogus", ...ok], "Failed to parse arguments: Found argument 'bogus' which wasn't expected, or isn't valid in this context."],
    [["--id=a", ...ok], "Failed to parse arguments: Found argument 'id=a' which wasn't expected, or isn't valid in this context."],
    [["--id", "a_b", ...ok], "Invalid instance ID: Invalid char (_) at position 1"],
    [["--id", "x".repeat(65), ...ok], "Invalid instance ID: Invalid len (65);  the length must be between 1 and 64"],
    [["--id", "a", ...ok.map((a) => (a === firecracker ? join(work, "nope") : a))], `Failed to canonicalize path ${join(work, "nope")}: No such file or directory (os error 2)`],
    [["--id", "a", ...ok.map((a) => (a === firecracker ? work : a))], `${work} is not a file`],
    [["--id", "a", ...ok.map((a) => (a === base ? join(work, "nobase") : a))], `Failed to canonicalize path ${join(work, "nobase")}: No such file or directory (os error 2)`],
    [["--id", "a", ...ok.map((a) => (a === "0" ? "-1" : a))], "Invalid uid: -1"],
    [["--id", "a", ...ok, "--parent-cgroup", "../up"], "Parent cgroup path is invalid. Path should not be absolute or contain '..' or '.'"],
    [["--id", "a", ...ok, "--parent-cgroup", "/abs"], "Parent cgroup path is invalid. Path should not be absolute or contain '..' or '.'"],
    [["--id", "a", ...ok, "--cgroup-version", "x"], "x is an invalid cgroup version specifier"],
    [["--id", "a", ...ok, "--cgroup", "cpu.cfs_quota_us"], "Invalid format for cgroups: cpu.cfs_quota_us"],
    [["--id", "a", ...ok, "--cgroup", "cpu.cfs_quota_us="], "Invalid format for cgroups: cpu.cfs_quota_us="],
    [["--id", "a", ...ok, "--cgroup", "../cpu.x=1"], "Cgroup invalid file: ../cpu.x=1"],
    [["--id", "a", ...ok, "--cgroup", "nodot=1"], "Cgroup invalid file: nodot"],
    [["--id", "a", ...ok, "--resource-limit", "no-file"], "Invalid format for resources limits: no-file"],
    [["--id", "a", ...ok, "--resource-limit", "cores=1"], "Invalid resource argument: cores"],
    [["--id", "a", ...ok, "--resource-limit", "fsize=-1"], "Invalid limit value for resource: -1: invalid digit found in string"],
  ])("%j", (args, message) => {
    const r = jail(args);
    expect(r.stderr).toBe(message);
    expect(r.code).toBe(1);
  });

  it("refuses a controller the hierarchy lacks, and a file the controller does not have", () => {
    const bad = jail(["--id", "a", ...ok, "--cgroup", "nosuch.max=1"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^(Controller nosuch is unavailable|Hierarchy not found: .*)$/);
    expect(existsSync(join(base, "firecracker", "a"))).toBe(false);
  });

  it("a jail used before is refused (its device nodes are there), as the real jailer's mknod", () => {
    mkdirSync(join(base, "firecracker", "used", "root", "dev", "net"), { recursive: true });
    writeFileSync(join(base, "firecracker", "used", "root", "dev", "net", "tun"), "");
    const r = jail(["--id", "used", ...ok]);
    expect(r.stderr).toBe("Failed to create /dev/net/tun via mknod inside the jail: File exists (os error 17)");
    rmSync(join(base, "firecracker", "used"), { recursive: true });
  });

  it("resolves paths inside the jail as chroot(2) does: a symlink to a host path does not reach the host", () => {
    const root = join(work, "pathjail");
    mkdirSync(join(root, "boot"), { recursive: true });
    writeFileSync(join(root, "boot", "k"), "");
    symlinkSync("/boot/k", join(root, "abs"));
    symlinkSync("../../../../etc/passwd", join(root, "up"));
    symlinkSync(`${tmpdir()}`, join(root, "host"));
    expect(jailPath(root, "/abs")).toBe(join(root, "boot", "k"));
    expect(jailPath(root, "up")).toBe(join(root, "etc", "passwd"));
    expect(existsSync(jailPath(root, "/up"))).toBe(false);
    expect(jailPath(root, "/host/x")).toBe(join(root, tmpdir(), "x"));
  });
});

const skip = vmTestsMissing();
if (skip) console.warn(`firecracker jailer: ${skip}`);
const T = 600_000;

describe.skipIf(skip)("firecracker backend under the jailer (stand-in), as nobody", () => {
  let server: TestServer;
  const shed = (args: string[]) => server.shed(args, { timeoutMs: T });
  const json = (args: string[]) => server.shedJson(args, { timeoutMs: T });
  const jailRoot = join(base, "firecracker", "shed-jailed", "root");

  beforeAll(async () => {
    server = await startServer({
      config: {
        enabled_backends: ["firecracker"],
        default_backend: "firecracker",
        firecracker: await standinSection(firecracker, { jailer: true, jailer_binary: jailer, chroot_base_dir: base, parent_cgroup: "shed-test", network: "none" }),
      },
    });
  }, IMAGE_HOOK_MS);

  afterAll(async () => {
    if (server) await server.shed(["delete", "jailed", "--force"], { timeoutMs: T }).catch(() => {});
    await server?.stop();
    // The parent cgroup the jailer made (the backend removes only each shed's own).
    for (const line of readFileSync("/proc/mounts", "utf8").split("\n")) {
      const dir = / (\/sys\/fs\/cgroup\S*) cgroup2? /.exec(line)?.[1];
      if (dir && existsSync(join(dir, "shed-test"))) rmdirSync(join(dir, "shed-test"));
    }
  }, T);

  /** The cgroup dirs the jail's instance file names, and whether each is one this process may enter. */
  const cgroups = (): string[] => (JSON.parse(readFileSync(join(instanceDir(server, "jailed"), "instance.json"), "utf8")).data.jail?.cgroups ?? []) as string[];

  it("create: the jailer's grammar accepted, Firecracker given the jail's paths, running as nobody in its cgroup", async () => {
    const created = await shed(["create", "jailed", "--image", "base", "--cpus", "1", "--memory", "768"]);
    expect(created.code, created.stderr).toBe(0);
    const log = requestLog(logDir, "shed-jailed");
    expect(log.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      "GET / 200",
      "PUT /machine-config 204",
      "PUT /boot-source 204",
      "PUT /drives/upper 204",
      "PUT /drives/lower 204",
      "PUT /vsock 204",
      "PUT /actions 204",
    ]);
    expect(log[2]!.body).toMatchObject({ kernel_image_path: "/vmlinux", initrd_path: "/initrd.img" });
    expect(log[3]!.body).toMatchObject({ path_on_host: "/upper.ext4" });
    expect(log[4]!.body).toMatchObject({ path_on_host: "/lower.erofs" });
    expect(log[5]!.body).toEqual({ guest_cid: 100, uds_path: "/run/firecracker.vsock" });
    // The files are hard links into the jail (the same inode as the shed's disk), the disk owned by the jail's uid.
    expect(statSync(join(jailRoot, "upper.ext4")).ino).toBe(statSync(join(instanceDir(server, "jailed"), "upper.ext4")).ino);
    expect(statSync(join(jailRoot, "upper.ext4")).uid).toBe(65534);
    const pid = firecrackerPid(server, "jailed")!;
    expect(pid).toBeGreaterThan(0);
    expect(readFileSync(join(jailRoot, "firecracker.pid"), "utf8")).toBe(String(pid));
    expect(readFileSync(`/proc/${pid}/status`, "utf8")).toMatch(/^Uid:\s+65534\s+65534/m);
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    expect(cmdline.slice(cmdline.indexOf("--id"))).toEqual(["--id", "shed-jailed", "--start-time-us", expect.stringMatching(/^\d+$/), "--start-time-cpu-us", expect.stringMatching(/^\d+$/), "--parent-cpu-time-us", expect.stringMatching(/^\d+$/), "--api-sock", "/run/firecracker.socket", ""]);
    // The limits: applied where this process sits at the hierarchy's root (v1 cpu here), else checked only (standin/jailer-cgroups.ts).
    const cpu = cgroups().find((d) => existsSync(join(d, "cpu.cfs_quota_us")) || existsSync(join(d, "cpu.max")));
    if (cpu) {
      const quota = existsSync(join(cpu, "cpu.max")) ? readFileSync(join(cpu, "cpu.max"), "utf8").trim() : readFileSync(join(cpu, "cpu.cfs_quota_us"), "utf8").trim();
      expect(quota).toMatch(/^100000( 100000)?$/);
      const procs = readFileSync(join(cpu, existsSync(join(cpu, "tasks")) ? "tasks" : "cgroup.procs"), "utf8").split("\n");
      expect(procs).toContain(String(pid));
    } else console.warn("firecracker jailer: no cpu cgroup entered on this host (checked only)");
    expect((await shed(["exec", "jailed", "--", "cat", "/proc/cmdline"])).stdout).toContain("shed.name=jailed");
  }, T);

  it("re-adopted after a server kill -9: the jailed microVM still answers", async () => {
    const pid = firecrackerPid(server, "jailed");
    await server.kill("SIGKILL");
    await server.restart();
    expect(firecrackerPid(server, "jailed")).toBe(pid);
    const r = await shed(["exec", "jailed", "--", "echo", "still"]);
    expect(r.stdout.trim(), r.stderr).toBe("still");
  }, T);

  it("stop removes the jail and its cgroups; start makes them again", async () => {
    const dirs = cgroups();
    expect((await json(["stop", "jailed"])).state).toBe("stopped");
    expect(existsSync(join(base, "firecracker", "shed-jailed"))).toBe(false);
    for (const d of dirs) expect(existsSync(d)).toBe(false);
    expect((await json(["start", "jailed"])).state).toBe("running");
    expect(existsSync(join(jailRoot, "run", "firecracker.socket"))).toBe(true);
    expect((await shed(["exec", "jailed", "--", "true"])).code).toBe(0);
  }, T);

  it("delete of a running jailed shed: the process, the jail and its cgroups gone", async () => {
    const dirs = cgroups();
    const del = await shed(["delete", "jailed", "--force"]);
    expect(del.code, del.stderr).toBe(0);
    expect(firecrackerPid(server, "jailed")).toBeUndefined();
    expect(existsSync(join(base, "firecracker", "shed-jailed"))).toBe(false);
    for (const d of dirs) expect(existsSync(d)).toBe(false);
    expect(existsSync(instanceDir(server, "jailed"))).toBe(false);
  }, T);
});
