import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { vmTestsMissing } from "../qemu/guest-image.ts";
import { requestLog, standinBinary, testVmlinux } from "./harness.ts";

/**
 * The stand-in is only worth what it refuses: these check it against Firecracker's contract
 * and behaviour on its own, through its API socket, without shed. A tiny VM (the vmlinux and
 * a busybox initramfs) proves the post-boot rules and ctrl-alt-del.
 */
const dir = mkdtempSync(join(tmpdir(), "shed-fc-standin-"));
const logDir = join(dir, "requests");
const bin = standinBinary(join(dir, "bin"), logDir);
const procs: ReturnType<typeof Bun.spawn>[] = [];

function start(id: string, extra: string[] = []) {
  const sock = join(dir, `${id}.sock`);
  const proc = Bun.spawn([bin, "--api-sock", sock, "--id", id, ...extra], { stdout: "pipe", stderr: "pipe" });
  procs.push(proc);
  return { sock, proc };
}

async function ready(sock: string, proc: ReturnType<typeof Bun.spawn>) {
  for (let i = 0; i < 600 && !existsSync(sock); i++) {
    if (proc.exitCode !== null) throw new Error(`the stand-in exited (${proc.exitCode}): ${await new Response(proc.stderr as ReadableStream).text()}`);
    await Bun.sleep(50);
  }
  if (!existsSync(sock)) throw new Error(`the stand-in made no API socket ${sock} in 30 s`);
}

async function call(sock: string, method: string, path: string, body?: unknown | string) {
  const res = await fetch(`http://localhost${path}`, {
    unix: sock,
    method,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    headers: { "Content-Type": "application/json" },
  } as RequestInit);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

afterAll(() => {
  for (const p of procs) if (p.exitCode === null) p.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

describe("Firecracker stand-in: the command line", () => {
  it("refuses an argument Firecracker does not take, and an API socket path that exists", async () => {
    const bad = Bun.spawnSync([bin, "--api-sock", join(dir, "x.sock"), "--bogus"], { stderr: "pipe" });
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr.toString()).toContain("Found argument '--bogus'");
    writeFileSync(join(dir, "taken.sock"), "");
    const taken = Bun.spawnSync([bin, "--api-sock", join(dir, "taken.sock")], { stderr: "pipe" });
    expect(taken.exitCode).toBe(1);
    expect(taken.stderr.toString()).toContain("Failed to open the API socket");
    const id = Bun.spawnSync([bin, "--api-sock", join(dir, "y.sock"), "--id", "no/slashes"], { stderr: "pipe" });
    expect(id.exitCode).toBe(1);
    expect(id.stderr.toString()).toContain("Invalid instance ID");
  });
});

describe("Firecracker stand-in: requests checked against the contract", () => {
  let sock: string;
  beforeAll(async () => {
    const s = start("contract");
    sock = s.sock;
    await ready(sock, s.proc);
  });

  it("answers GET / with the instance's info", async () => {
    expect(await call(sock, "GET", "/")).toEqual({ status: 200, body: { app_name: "Firecracker", id: "contract", state: "Not started", vmm_version: "1.14.1" } });
  });

  it("refuses a malformed body, an unknown field, a missing field, a wrong type and an unknown enum value with 400 and fault_message", async () => {
    const malformed = await call(sock, "PUT", "/machine-config", '{"vcpu_count": 2,');
    expect(malformed.status).toBe(400);
    expect(malformed.body.fault_message).toMatch(/JSON/);
    const unknown = await call(sock, "PUT", "/machine-config", { vcpu_count: 2, mem_size_mib: 256, turbo: true });
    expect(unknown).toEqual({ status: 400, body: { fault_message: expect.stringContaining("unknown field `turbo`") } });
    expect((await call(sock, "PUT", "/boot-source", { boot_args: "x" })).body.fault_message).toContain("missing field `kernel_image_path`");
    expect((await call(sock, "PUT", "/machine-config", { vcpu_count: "2", mem_size_mib: 256 })).body.fault_message).toContain("invalid type: string \"2\", expected an integer");
    expect((await call(sock, "PUT", "/machine-config", { vcpu_count: 33, mem_size_mib: 256 })).body.fault_message).toContain("above the maximum 32");
    expect((await call(sock, "PUT", "/actions", { action_type: "Reboot" })).body.fault_message).toContain("unknown variant `Reboot`");
    // Nested objects are checked too (a drive's rate limiter's token bucket).
    const nested = await call(sock, "PUT", "/drives/d1", { drive_id: "d1", is_root_device: false, rate_limiter: { ops: { size: 1 } } });
    expect(nested.body.fault_message).toContain("missing field `refill_time`");
  });

  it("refuses an unknown path or method, a body id that is not the path's, files that do not exist, a missing tap", async () => {
    expect(await call(sock, "PUT", "/vm", {})).toEqual({ status: 400, body: { fault_message: "Invalid request method and/or path: PUT vm." } });
    expect((await call(sock, "PUT", "/drives/a", { drive_id: "b", is_root_device: false, path_on_host: "/etc/hostname", is_read_only: true })).body.fault_message).toBe(
      "The id from the path does not match the id from the body!",
    );
    expect((await call(sock, "PUT", "/boot-source", { kernel_image_path: join(dir, "none") })).body.fault_message).toContain("kernel file cannot be opened");
    expect((await call(sock, "PUT", "/drives/a", { drive_id: "a", is_root_device: false, path_on_host: join(dir, "none"), is_read_only: true })).status).toBe(400);
    expect((await call(sock, "PUT", "/network-interfaces/eth0", { iface_id: "eth0", host_dev_name: "shed-no-such-tap" })).body.fault_message).toContain("Open tap device failed");
  });

  it("refuses InstanceStart without a boot source, and a kernel that is not an ELF vmlinux", async () => {
    expect(await call(sock, "PUT", "/actions", { action_type: "InstanceStart" })).toEqual({
      status: 400,
      body: { fault_message: "Start microvm error: Cannot start microvm without kernel configuration." },
    });
    const bz = join(dir, "bzImage");
    writeFileSync(bz, Buffer.concat([Buffer.alloc(0x202), Buffer.from("HdrS")]));
    expect((await call(sock, "PUT", "/boot-source", { kernel_image_path: bz })).status).toBe(204);
    expect((await call(sock, "PUT", "/actions", { action_type: "InstanceStart" })).body.fault_message).toContain("failed to load ELF kernel image");
    expect((await call(sock, "PUT", "/actions", { action_type: "SendCtrlAltDel" })).body.fault_message).toBe(
      "The requested operation is not supported before starting the microVM.",
    );
  });

  it("logs every request with its answer", () => {
    {
      const entries = requestLog(logDir, "contract");
      expect(entries[0]).toEqual({ method: "GET", path: "/", status: 200 });
      expect(entries).toContainEqual({
        method: "PUT",
        path: "/machine-config",
        body: { vcpu_count: 2, mem_size_mib: 256, turbo: true },
        status: 400,
        fault_message: expect.stringContaining("unknown field `turbo`"),
      });
      expect(entries.every((e) => typeof e.status === "number")).toBe(true);
    }
  });
});

const skip = vmTestsMissing() ?? (Bun.which("busybox") ? undefined : "skipped: busybox (busybox-static) for the tiny VM's initramfs");
if (skip) console.warn(`Firecracker stand-in boot: ${skip}`);

describe.skipIf(skip)("Firecracker stand-in: a booted microVM", () => {
  let sock: string;
  let proc: ReturnType<typeof Bun.spawn>;

  beforeAll(async () => {
    // A busybox initramfs whose init only waits: the VM runs until ctrl-alt-del.
    const root = join(dir, "initrd");
    mkdirSync(join(root, "bin"), { recursive: true });
    Bun.spawnSync(["cp", Bun.which("busybox")!, join(root, "bin/busybox")]);
    symlinkSync("busybox", join(root, "bin/sh"));
    writeFileSync(join(root, "init"), "#!/bin/sh\necho tiny-init-up\nwhile :; do /bin/busybox sleep 1; done\n", { mode: 0o755 });
    const cpio = Bun.spawnSync(["sh", "-c", `cd '${root}' && find . | cpio -o -H newc 2>/dev/null`], { stdout: "pipe", maxBuffer: 64 << 20 });
    writeFileSync(join(dir, "initrd.cpio"), cpio.stdout);
    ({ sock, proc } = start("booted"));
    await ready(sock, proc);
    expect((await call(sock, "PUT", "/machine-config", { vcpu_count: 1, mem_size_mib: 256 })).status).toBe(204);
    const boot = { kernel_image_path: await testVmlinux(), initrd_path: join(dir, "initrd.cpio"), boot_args: "console=ttyS0 reboot=k panic=1" };
    expect((await call(sock, "PUT", "/boot-source", boot)).status).toBe(204);
    expect((await call(sock, "PUT", "/vsock", { guest_cid: 3, uds_path: join(dir, "booted.vsock") })).status).toBe(204);
    expect(await call(sock, "PUT", "/actions", { action_type: "InstanceStart" })).toEqual({ status: 204, body: undefined });
  }, 600_000);

  it("is Running; pre-boot resources and a second InstanceStart are refused", async () => {
    expect((await call(sock, "GET", "/")).body.state).toBe("Running");
    for (const [path, body] of [
      ["/machine-config", { vcpu_count: 2, mem_size_mib: 512 }],
      ["/boot-source", { kernel_image_path: await testVmlinux() }],
      ["/vsock", { guest_cid: 4, uds_path: join(dir, "other.vsock") }],
      ["/actions", { action_type: "InstanceStart" }],
    ] as const) {
      expect(await call(sock, "PUT", path, body)).toEqual({ status: 400, body: { fault_message: "The requested operation is not supported after starting the microVM." } });
    }
  });

  it("closes a vsock CONNECT to a port no guest process listens on", async () => {
    const answer = await new Promise<string>((resolve) => {
      const s = connect(join(dir, "booted.vsock"), () => s.write("CONNECT 1024\n"));
      let got = "";
      s.on("data", (d) => (got += d.toString()));
      s.on("close", () => resolve(got));
      s.on("error", () => {});
    });
    expect(answer).toBe("");
  });

  it("SendCtrlAltDel: the guest resets, the microVM ends and so does the process", async () => {
    // Wait for the guest's init: the keyboard controller is the kernel's by then.
    const out: string[] = [];
    const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
    while (!out.join("").includes("tiny-init-up")) {
      const { value, done } = await reader.read();
      if (done) break;
      out.push(new TextDecoder().decode(value));
    }
    reader.releaseLock();
    expect(out.join("")).toContain("tiny-init-up");
    expect((await call(sock, "PUT", "/actions", { action_type: "SendCtrlAltDel" })).status).toBe(204);
    expect(await proc.exited).toBe(0);
    expect(existsSync(sock)).toBe(false);
  }, 300_000);
});
