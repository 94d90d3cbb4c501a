import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ShedError } from "../../src/api/errors.ts";
import { checkPaths, kernelCmdline, vfkitArgs, type VzLayout } from "../../src/backends/vz/command.ts";
import { sharesOf } from "../../src/backends/vz/shares.ts";
import { parseDevice, parseVfkitArgs, splitSlice, VfkitUsageError } from "./standin/grammar.ts";
import { validate } from "./standin/vm.ts";

const STANDIN = join(import.meta.dirname, "standin", "vfkit");
const dir = mkdtempSync(join(tmpdir(), "shed-vz-args-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function layout(root = dir): VzLayout {
  for (const f of ["upper.ext4", "lower.erofs", "vmlinuz", "initrd.img"]) writeFileSync(join(root, f), "\0\0\0\0not a qcow2");
  return {
    dir: root,
    upper: join(root, "upper.ext4"),
    lower: join(root, "lower.erofs"),
    kernel: join(root, "vmlinuz"),
    initrd: join(root, "initrd.img"),
    console: join(root, "console.log"),
    pidFile: join(root, "vfkit.pid"),
    restSocket: join(root, "rest.sock"),
    agentSocket: join(root, "agent.sock"),
  };
}

/** Runs the stand-in as the backend would, and returns its exit code and stderr. */
function standin(args: string[]) {
  const p = Bun.spawnSync([STANDIN, ...args], { stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode, stderr: p.stderr.toString() };
}

describe("vz: vfkit's command line", () => {
  it("a shed with two mounts, a file credential and a custom size: every flag and device as vfkit reads them", () => {
    const ws = join(dir, "ws");
    const ro = join(dir, "ro dir");
    mkdirSync(ws);
    mkdirSync(ro);
    // A file credential is no VirtioFS share: it is copied in and kept in sync (vm-boot/file-sync.ts).
    const token = join(dir, "token.json");
    writeFileSync(token, "{}\n");
    const shares = sharesOf({
      name: "web",
      image: "base",
      cpus: 3,
      memoryMb: 3072,
      env: {},
      upperSizeBytes: 8 * 1024 ** 3,
      mounts: [
        { source: ws, target: "/workspace", readonly: false },
        { source: ro, target: "/opt/ro", readonly: true },
        { source: token, target: "/home/shed/.config/token.json", readonly: false },
      ],
    });
    const l = layout();
    const argv = vfkitArgs({ name: "web", cpus: 3, memoryMb: 3072, shares, mac: "02:aa:bb:cc:dd:ee" }, l);
    const cfg = parseVfkitArgs(argv);
    if (typeof cfg === "string") throw new Error(cfg);
    expect(cfg).toMatchObject({ cpus: 3, memoryMiB: 3072, pidFile: l.pidFile, restfulURI: `unix://${l.restSocket}` });
    expect(cfg.boot).toEqual({ kernel: l.kernel, initrd: l.initrd, cmdline: kernelCmdline("web") });
    expect(cfg.devices).toEqual([
      { kind: "virtio-blk", path: l.upper, readonly: false },
      { kind: "virtio-blk", path: l.lower, readonly: true },
      { kind: "virtio-vsock", port: 1024, socketURL: l.agentSocket, listen: false },
      { kind: "virtio-serial", logFilePath: l.console, stdio: false, pty: false },
      { kind: "virtio-rng" },
      { kind: "virtio-net", nat: true, mac: "02:aa:bb:cc:dd:ee" },
      { kind: "virtio-fs", sharedDir: ws, mountTag: "shedfs0" },
      { kind: "virtio-fs", sharedDir: ro, mountTag: "shedfs1" },
    ]);
    // And the stand-in's VZ-side checks pass: the disks open, the shared dirs are dirs, the tags fit.
    expect(() => validate(cfg)).not.toThrow();
  });

  it("the kernel command line survives vfkit's quoting (spaces inside cmdline=\"...\")", () => {
    expect(splitSlice('linux,kernel=/k,initrd=/i,cmdline="console=hvc0 a=b c"')).toEqual(["linux", "kernel=/k", "initrd=/i", 'cmdline="console=hvc0 a=b c"']);
  });

  it("a socket path past macOS's 104 bytes is refused before anything starts, with what to do", () => {
    const long = join(dir, "s".repeat(120));
    const l = { ...layout(), restSocket: join(long, "rest.sock") };
    const err = (() => {
      try {
        checkPaths(l, []);
      } catch (e) {
        return e as ShedError;
      }
    })();
    expect(err).toBeInstanceOf(ShedError);
    expect(err!.code).toBe("INVALID_REQUEST");
    expect(err!.message).toContain("vz.socket_dir");
    expect(err!.message).toMatch(/macOS allows 103 \(104 with its NUL\)/);
    // The same path given to vfkit: refused by vfkit's own check.
    const r = standin(["--restful-uri", `unix://${l.restSocket}`, "-k", l.kernel, "-i", l.initrd, "-C", "x"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("invalid unix uri: socket path length exceeds macOS limits");
  });

  it("a path with a comma is refused (vfkit's device options cannot carry one)", () => {
    expect(() => checkPaths(layout(), [{ tag: "shedfs0", path: "/tmp/a,b", target: "/workspace", readonly: false }])).toThrow(/comma/);
  });
});

describe("vfkit stand-in: refuses what vfkit refuses, with vfkit's words and exit code 1", () => {
  const cases: [string, string[], string][] = [
    ["an unknown flag", ["--foo"], "unknown flag: --foo"],
    ["an unknown shorthand", ["-z"], "unknown shorthand flag: 'z' in -z"],
    ["a flag without its value", ["--cpus"], "flag needs an argument: --cpus"],
    ["a CPU count that is no number", ["--cpus", "two"], 'invalid argument "two" for "-c, --cpus" flag'],
    ["an unknown device", ["--bootloader", "linux,kernel=/k,initrd=/i,cmdline=x", "--device", "virtio-foo"], "unknown device type: virtio-foo"],
    ["an unknown device option", ["--bootloader", "linux,kernel=/k,initrd=/i,cmdline=x", "--device", "virtio-blk,path=/x,cache=none"], "unknown option for virtio-blk devices: cache"],
    ["an unknown vsock option", ["--bootloader", "linux,kernel=/k,initrd=/i,cmdline=x", "--device", "virtio-vsock,port=1,socketURL=/s,bind"], "unknown option for virtio-vsock devices: bind"],
    ["an unknown bootloader", ["--bootloader", "grub"], "unknown bootloader type: grub"],
    ["an unknown bootloader option", ["--bootloader", "linux,kernel=/k,root=/dev/vda"], "unknown option for Linux bootloaders: root"],
    ["--kernel beside --bootloader", ["--kernel", "/k", "--bootloader", "linux,kernel=/k"], "none of the others can be"],
    ["--kernel without --initrd", ["--kernel", "/k", "--kernel-cmdline", "x"], "missing [initrd]"],
    ["a restful URI with an unknown scheme", ["--restful-uri", "ftp://x", "--bootloader", "linux,kernel=/k,initrd=/i,cmdline=x"], "invalid scheme ftp"],
    ["a log level vfkit has not", ["--log-level", "trace", "--bootloader", "linux,kernel=/k,initrd=/i,cmdline=x"], "unknown log level: trace"],
    ["a serial console with two outputs", ["--bootloader", "linux,kernel=/k,initrd=/i,cmdline=x", "--device", "virtio-serial,logFilePath=/l,stdio"], "'logFilePath' and 'stdio' cannot be set at the same time"],
    ["a NIC with no attachment", ["--bootloader", "linux,kernel=/k,initrd=/i,cmdline=x", "--device", "virtio-net,mac=02:00:00:00:00:01"], "one of 'nat' or 'fd' or 'unixSocketPath' must be set"],
  ];
  for (const [what, args, message] of cases) {
    it(`${what}: ${message}`, () => {
      const r = standin(args);
      expect(r.code).toBe(1);
      expect(r.stderr.startsWith("Error: ")).toBe(true);
      expect(r.stderr).toContain(message);
    });
  }

  it("a disk that does not open, or is qcow2, is refused as VZ refuses it", () => {
    const qcow = join(dir, "disk.qcow2");
    writeFileSync(qcow, Buffer.from([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3]));
    const cfg = (dev: string) => {
      const c = parseVfkitArgs(["--bootloader", `linux,kernel=${layout().kernel},initrd=${layout().initrd},cmdline=x`, "--device", dev]);
      if (typeof c === "string") throw new Error(c);
      return c;
    };
    expect(() => validate(cfg(`virtio-blk,path=${qcow}`))).toThrow("vfkit does not support qcow2 image format");
    expect(() => validate(cfg(`virtio-blk,path=${join(dir, "nope")}`))).toThrow(/failed to open file/);
    expect(() => validate(cfg(`virtio-fs,sharedDir=${join(dir, "nope")},mountTag=x`))).toThrow(/not a directory/);
    expect(() => validate(cfg(`virtio-fs,sharedDir=${dir},mountTag=${"t".repeat(37)}`))).toThrow(/mount tag/);
  });

  it("listen is vsock's default; connect is the host dialing the guest", () => {
    expect(parseDevice("virtio-vsock,port=1024,socketURL=/s")).toMatchObject({ listen: true });
    expect(parseDevice("virtio-vsock,port=1024,socketURL=/s,connect")).toMatchObject({ listen: false });
    expect(() => parseDevice("virtio-vsock,port=x,socketURL=/s")).toThrow(VfkitUsageError);
  });
});
