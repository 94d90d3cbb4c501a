import {
  chownSync,
  closeSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DIST, startServer, type TestServer } from "../harness/index.ts";
import { makeTestNetwork, netnsMissing, type TestNetwork } from "../harness/netns.ts";
import { opensshArgs } from "../harness/openssh.ts";
import { baseImage, IMAGE_HOOK_MS, vmTestsMissing } from "./guest-image.ts";
import { qemuProcesses } from "./processes.ts";

/**
 * Real VMs under QEMU (TCG here: minutes, not seconds), booted from the base guest image
 * through the erofs + ext4 overlay chain, driven through the compiled CLI and server. Boots
 * are few on purpose (2 cores): vm1 boots three times (create, start, start after reset),
 * vm2 once; the rest reuses running VMs. The server runs as on a host of its own, in a
 * network namespace the test made (its default, isolated VM network makes a bridge and
 * nftables rules there: see network.test.ts), so the CLI and the SSH clients run there too.
 */
const skip = vmTestsMissing() ?? (netnsMissing() ? `skipped: VM tests need ${netnsMissing()}` : undefined);
if (skip && !vmTestsMissing()) console.warn(skip);
const BOOT_MS = 600_000;
/** The owner of the --local-dir, as a person's project directory has one. */
const OWNER = 1000;

describe.skipIf(skip)("qemu backend: sheds as real VMs", () => {
  let net: TestNetwork;
  let server: TestServer;
  let image: string;

  const shed = async (args: string[], timeoutMs = BOOT_MS) => {
    const r = await server.shed(args, { timeoutMs });
    return r;
  };
  const ok = async (args: string[], timeoutMs = BOOT_MS) => {
    const r = await shed(args, timeoutMs);
    if (r.code !== 0) throw new Error(`shed ${args.join(" ")} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  const exec = (name: string, cmd: string) => ok(["exec", name, "--", "sh", "-c", cmd], 120_000);

  // Host side of the 9p mounts and the copied-in credential file.
  let hostDirs: { workspace: string; secrets: string; file: string };

  beforeAll(async () => {
    image = (await baseImage()).ref;
    const root = join(tmpdir(), `shed-vm-mounts-${process.pid}`);
    hostDirs = { workspace: join(root, "ws"), secrets: join(root, "secrets"), file: join(root, "netrc") };
    mkdirSync(hostDirs.workspace, { recursive: true, mode: 0o755 });
    chownSync(hostDirs.workspace, OWNER, OWNER);
    mkdirSync(hostDirs.secrets);
    writeFileSync(join(hostDirs.secrets, "token"), "t0ken\n");
    writeFileSync(hostDirs.file, "machine example.test\n");
    net = makeTestNetwork();
    server = await startServer({
      netns: net.host,
      config: {
        enabled_backends: ["qemu"],
        default_backend: "qemu",
        qemu: { accel: "tcg", default_cpus: 2, default_memory_mb: 1024, stop_timeout: 90, image_aliases: { base: image } },
        mounts: {
          secrets: { source: hostDirs.secrets, target: "/opt/secrets", readonly: true },
          netrc: { source: hostDirs.file, target: "/home/shed/.netrc" },
        },
      },
    });
  }, IMAGE_HOOK_MS);

  afterAll(async () => {
    if (server) {
      for (const name of ["vm1", "vm2"]) await server.shed(["delete", name, "--force"]).catch(() => {});
      await server.stop();
    }
    await net?.remove();
    if (hostDirs) rmSync(join(hostDirs.workspace, ".."), { recursive: true, force: true });
  }, 120_000);

  it("creates a shed from the base image and reports it running on qemu", async () => {
    await ok(["create", "vm1", "--image", "base", "--local-dir", hostDirs.workspace]);
    const info = await server.shedJson(["info", "vm1"]);
    expect(info).toMatchObject({ name: "vm1", backend: "qemu", state: "running" });
  }, BOOT_MS);

  it("boots with the shed arguments on the kernel command line", async () => {
    const cmdline = (await exec("vm1", "cat /proc/cmdline")).trim().split(" ");
    expect(cmdline).toContain("shed.name=vm1");
    expect(cmdline).toContain("shed.upper=/dev/vda");
    expect(cmdline).toContain("shed.lower=/dev/vdb");
    expect(cmdline).toContain("shed.agent=serial");
    expect((await exec("vm1", "hostname")).trim()).toBe("vm1");
  });

  it("runs on an overlay of the erofs image root and the shed's ext4 disk", async () => {
    const root = (await exec("vm1", "findmnt -no FSTYPE,OPTIONS /")).trim();
    expect(root).toMatch(/^overlay\s/);
    expect(root).toContain("lowerdir=/mnt/shed/lower");
    expect(root).toContain("upperdir=/mnt/shed/upper/root");
    expect((await exec("vm1", "findmnt -no FSTYPE,SOURCE /mnt/shed/lower")).trim()).toMatch(/^erofs\s+\/dev\/vdb/);
    expect((await exec("vm1", "findmnt -no FSTYPE,SOURCE /mnt/shed/upper")).trim()).toMatch(/^ext4\s+\/dev\/vda/);
    // systemd is PID 1 and the agent runs as its unit.
    expect((await exec("vm1", "cat /proc/1/comm")).trim()).toBe("systemd");
    expect((await exec("vm1", "systemctl is-active shed-agent shed-firstboot")).trim()).toBe("active\nactive");
  });

  it("mounts host directories over 9p (--local-dir both ways, config mounts read-only) and copies single files in", async () => {
    writeFileSync(join(hostDirs.workspace, "from-host.txt"), "host edit\n");
    expect(await exec("vm1", "cat /workspace/from-host.txt; echo vm edit > /workspace/from-vm.txt; findmnt -no FSTYPE /workspace")).toBe(
      "host edit\n9p\n",
    );
    expect(readFileSync(join(hostDirs.workspace, "from-vm.txt"), "utf8")).toBe("vm edit\n");
    expect(statSync(join(hostDirs.workspace, "from-vm.txt")).uid).toBe(OWNER);
    expect(await exec("vm1", "cat /opt/secrets/token; touch /opt/secrets/x 2>/dev/null || echo read-only")).toBe("t0ken\nread-only\n");
    expect(await exec("vm1", "cat /home/shed/.netrc; stat -c %U /home/shed/.netrc")).toBe("machine example.test\nshed\n");
  });

  it("keeps the console log, shown by `shed logs`", async () => {
    const logs = await ok(["logs", "vm1"], 60_000);
    expect(logs).toContain("shed-init: root is overlay(erofs /dev/vdb + ext4 /dev/vda), shed vm1");
  });

  it("is reached through the SSH door like any shed: OpenSSH exec, sftp, ssh -L, shed attach into tmux", async () => {
    const key = join(server.dir, "id_ed25519");
    Bun.spawnSync(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key]);
    // Loopback server, so ssh.auth is warn: any key that signs gets in.
    const opts = opensshArgs({ port: server.sshPort, key });
    const ssh = Bun.spawnSync(server.wrap(["ssh", ...opts, "vm1@127.0.0.1", "echo door-$(hostname); exit 3"]), { stdout: "pipe", stderr: "pipe" });
    expect(ssh.exitCode, ssh.stderr.toString()).toBe(3);
    expect(ssh.stdout.toString()).toBe("door-vm1\n");
    const local = join(server.dir, "sftp.txt");
    writeFileSync(local, "through sftp\n");
    const batch = join(server.dir, "batch");
    writeFileSync(batch, `put ${local} /tmp/sftp.txt\n`);
    const sftp = Bun.spawnSync(server.wrap(["sftp", ...opensshArgs({ port: server.sshPort, key, portFlag: "-P" }), "-b", batch, "vm1@127.0.0.1"]), { stderr: "pipe" });
    expect(sftp.exitCode, sftp.stderr.toString()).toBe(0);
    expect((await exec("vm1", "cat /tmp/sftp.txt")).trim()).toBe("through sftp");
    // ssh -L through the door to a port in the VM: the guest's own sshd answers with its banner.
    await exec("vm1", "sudo systemctl start ssh");
    const port = 20000 + Math.floor(Math.random() * 20000);
    const fwd = Bun.spawn(server.wrap(["ssh", ...opts, "-N", "-o", "ExitOnForwardFailure=yes", "-L", `${port}:127.0.0.1:22`, "vm1@127.0.0.1"]), { stderr: "pipe" });
    try {
      const banner = await readPortInServerNetns(port);
      expect(banner).toMatch(/^SSH-2\.0-OpenSSH/);
    } finally {
      fwd.kill();
    }
    // `shed attach` (the CLI's own SSH client) makes a tmux session in the VM that outlives it.
    const outer = `shed-vm-attach-${process.pid}`;
    const attach = server.wrap(["env", `HOME=${server.dir}`, "SSH_AUTH_SOCK=", `SHED_CONFIG_DIR=${server.configDir}`, join(DIST, "shed"), "attach", "vm1", "-S", "agent"]).join(" ");
    mkdirSync(join(server.dir, ".ssh"), { recursive: true });
    copyFileSync(key, join(server.dir, ".ssh", "id_ed25519"));
    Bun.spawnSync(["tmux", "new-session", "-d", "-s", outer, "-x", "100", "-y", "30", attach]);
    try {
      let sessions: { name: string; attached: boolean }[] = [];
      for (let i = 0; i < 150 && !sessions.some((x) => x.name === "agent" && x.attached); i++) {
        await Bun.sleep(200);
        sessions = (await server.shedJson(["sessions", "vm1"])).sessions ?? [];
      }
      expect(sessions).toContainEqual(expect.objectContaining({ name: "agent", attached: true }));
    } finally {
      Bun.spawnSync(["tmux", "kill-session", "-t", outer]);
    }
    // The client is gone: its tmux client in the VM gets the hang-up, the session stays.
    let after: { name: string; attached: boolean }[] = [];
    for (let i = 0; i < 150; i++) {
      after = (await server.shedJson(["sessions", "vm1"])).sessions ?? [];
      if (after.some((x) => x.name === "agent" && !x.attached)) break;
      await Bun.sleep(200);
    }
    expect(after).toContainEqual(expect.objectContaining({ name: "agent", attached: false }));
  });

  it("runs 20 execs at once over the one virtio-serial port", async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => exec("vm1", `echo exec-${i}-$(cat /proc/sys/kernel/hostname)`)),
    );
    results.forEach((out, i) => {
      expect(out.trim()).toBe(`exec-${i}-vm1`);
    });
  }, 300_000);

  it("keeps files across stop/start and loses them on reset", async () => {
    await exec("vm1", "echo kept > /home/shed/keep.txt && sync");
    const machineId = (await exec("vm1", "cat /etc/machine-id")).trim();
    expect(machineId).toMatch(/^[0-9a-f]{32}$/);
    const stopped = await server.shedJson(["stop", "vm1"], { timeoutMs: 180_000 });
    expect(stopped.state).toBe("stopped");
    expect(qemuProcesses(server, "vm1")).toEqual([]);
    expect((await server.shedJson(["reset", "vm1", "-y"])).state).toBe("stopped");
    // reset happened on the stopped shed; boot again: the file is gone, the identity is new.
    await ok(["start", "vm1"]);
    expect((await exec("vm1", "test -e /home/shed/keep.txt && echo present || echo gone")).trim()).toBe("gone");
    expect((await exec("vm1", "cat /etc/machine-id")).trim()).not.toBe(machineId);
    // Mounts come back on every boot, and the copied file with the fresh disk.
    expect(await exec("vm1", "cat /workspace/from-host.txt /home/shed/.netrc")).toBe("host edit\nmachine example.test\n");
  }, 2 * BOOT_MS);

  it("two sheds have their own machine-id and SSH host keys (the second booted from the server's image store)", async () => {
    // The same recipe through `shed image build --recipe` (cached, so no second debootstrap)
    // into the server's store, where the root is the OCI module's erofs.
    const built = await server.shedJson(["image", "build", "--recipe", join(import.meta.dirname, "../../guest/base"), "-t", "shed/base:store"], {
      timeoutMs: BOOT_MS,
    });
    expect(built.images[0].ref).toBe("docker.io/shed/base:store");
    await ok(["create", "vm2", "--image", "shed/base:store", "--upper-size", "2G"]);
    expect(existsSync(join(server.stateDir, "rootfs"))).toBe(true);
    expect((await exec("vm2", "cat /sys/block/vda/size")).trim()).toBe(String((2 * 1024 ** 3) / 512));
    const tooBig = await server.shedJson(["create", "vm4", "--image", "shed/base:store", "--upper-size", "500G"]);
    expect(tooBig.error.code).toBe("INVALID_REQUEST");
    expect(tooBig.error.message).toContain("between 1G and 100G");
    const id = async (name: string) => ({
      machineId: (await exec(name, "cat /etc/machine-id")).trim(),
      // The agent is up before shed-hostkeys may be done: wait for the unit.
      hostKey: (await exec(name, "sudo systemctl start shed-hostkeys && ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub")).trim(),
    });
    const [a, b] = [await id("vm1"), await id("vm2")];
    expect(a.machineId).not.toBe(b.machineId);
    expect(a.hostKey.split(" ")[1]).not.toBe(b.hostKey.split(" ")[1]);
    // Keys are named after the shed (ssh-keygen -A ran with the shed's hostname).
    expect(b.hostKey).toContain("vm2");
  }, BOOT_MS);

  it("confines every QEMU: unprivileged (the share owner, else shed-vmm), no capabilities, seccomp; shares make no setuid or device file on the host", async () => {
    const status = (name: string) => {
      const pids = qemuProcesses(server, name);
      expect(pids).toHaveLength(1);
      const text = readFileSync(`/proc/${pids[0]}/status`, "utf8");
      const field = (key: string) => text.match(new RegExp(`^${key}:[ \\t]*(.*)$`, "m"))?.[1]?.trim().split(/\s+/).filter(Boolean) ?? [];
      return {
        uid: field("Uid"),
        gid: field("Gid"),
        groups: field("Groups"),
        capEff: field("CapEff")[0],
        capBnd: field("CapBnd")[0],
        noNewPrivs: field("NoNewPrivs")[0],
        seccomp: field("Seccomp")[0],
      };
    };
    const confined = { capEff: "0000000000000000", capBnd: "0000000000000000", noNewPrivs: "1", seccomp: "2" };
    // vm1 shares the owner's --local-dir read-write: its QEMU is that user (real, effective, saved, fs).
    expect(status("vm1")).toEqual({ uid: Array(4).fill(String(OWNER)), gid: Array(4).fill(String(OWNER)), groups: [], ...confined });
    // vm2 has only the root-owned read-only config mount: the system user the server made.
    const vmm = Bun.spawnSync(["id", "-u", "shed-vmm"], { stdout: "pipe" }).stdout.toString().trim();
    expect(vmm).toMatch(/^[1-9]\d*$/);
    expect(status("vm2")).toMatchObject({ uid: Array(4).fill(vmm), ...confined });
    // Guest root makes a setuid+setgid binary and two device nodes on the share: the guest
    // sees them so (kept in xattrs), the host sees plain files of the owner with the share's mode.
    const seen = await ok(["exec", "vm1", "-u", "root", "--", "sh", "-c", "cd /workspace && cp /bin/true suid && chmod 6755 suid && chmod u+s suid && mknod blk b 8 0 && mknod chr c 1 3 && stat -c '%n %a %F' suid blk chr"]);
    expect(seen.trim().split("\n")).toEqual(["suid 6755 regular file", expect.stringMatching(/^blk \d+ block special file$/), expect.stringMatching(/^chr \d+ character special file$/)]);
    for (const name of ["suid", "blk", "chr"]) {
      const st = lstatSync(join(hostDirs.workspace, name));
      expect({ name, file: st.isFile(), mode: (st.mode & 0o7777).toString(8), uid: st.uid }).toEqual({ name, file: true, mode: "644", uid: OWNER });
    }
  });

  it("survives a SIGKILL of shed-server: the VM keeps running, is listed and answers", async () => {
    await exec("vm1", "echo before-kill > /tmp/marker");
    const pids = qemuProcesses(server, "vm1");
    expect(pids).toHaveLength(1);
    await server.kill("SIGKILL");
    await server.restart();
    expect(qemuProcesses(server, "vm1")).toEqual(pids);
    const list = await server.shedJson(["list"]);
    expect(list.sheds.find((s: { name: string }) => s.name === "vm1")).toMatchObject({ state: "running" });
    expect((await exec("vm1", "cat /tmp/marker")).trim()).toBe("before-kill");
  }, BOOT_MS);

  it("says clearly when the writable disk is corrupt", async () => {
    await server.shedJson(["stop", "vm2"], { timeoutMs: 180_000 });
    const upper = join(server.stateDir, "qemu", "instances", "vm2", "upper.ext4");
    const fd = openSync(upper, "r+");
    writeSync(fd, Buffer.alloc(4096), 0, 4096, 0);
    closeSync(fd);
    const r = await server.shedJson(["start", "vm2"]);
    expect(r.error.code).toBe("SHED_UNHEALTHY");
    expect(r.error.message).toMatch(/writable disk of shed "vm2" is corrupt.*shed reset vm2/);
    expect(qemuProcesses(server, "vm2")).toEqual([]);
  }, BOOT_MS);

  it("says clearly when the image is missing or cannot boot", async () => {
    const missing = await server.shedJson(["create", "vm3", "--image", "oci:/nonexistent/layout:x"]);
    expect(missing.error.code).toBe("IMAGE_NOT_FOUND");
    expect(missing.error.message).toContain("/nonexistent/layout");
    const unknown = await server.shedJson(["create", "vm3", "--image", "no-such-image:1"]);
    expect(unknown.error.code).toBe("IMAGE_NOT_FOUND");
    expect((await server.shedJson(["list"])).sheds.map((s: { name: string }) => s.name)).not.toContain("vm3");
  });

  it("deletes VMs with everything they own", async () => {
    for (const name of ["vm1", "vm2"]) {
      await ok(["delete", name, "--force"], 180_000);
      expect(qemuProcesses(server, name)).toEqual([]);
      expect(existsSync(join(server.stateDir, "qemu", "instances", name))).toBe(false);
    }
  }, 400_000);

  /** The first line a TCP port on 127.0.0.1 of the server's namespace sends (tries while a forward comes up). */
  async function readPortInServerNetns(port: number): Promise<string> {
    let line = "";
    for (let i = 0; i < 50 && !line.startsWith("SSH-2.0-"); i++) {
      await Bun.sleep(200);
      const p = Bun.spawnSync(server.wrap(["bash", "-c", `exec 3<>/dev/tcp/127.0.0.1/${port} && timeout 3 head -n1 <&3`]), { stdout: "pipe", stderr: "ignore" });
      line = p.stdout.toString();
    }
    return line;
  }
});
