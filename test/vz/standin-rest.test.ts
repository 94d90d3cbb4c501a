import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { storeImageSource } from "../../src/backends/image-source.ts";
import { prepareBootImage } from "../../src/backends/vm-boot/boot-image.ts";
import { changeVmState, vmState } from "../../src/backends/vz/vfkit.ts";
import { importLayoutRef, openContentStore } from "../../src/oci/store/index.ts";
import { baseImage, vmTestsMissing } from "../qemu/guest-image.ts";
import { installStandin, standinMissing } from "./standin/install.ts";

/**
 * The stand-in's REST API as vfkit serves it (pkg/rest): GET /vm/state, POST /vm/state with
 * Stop/HardStop/Pause/Resume (202, or gin's 400/500 with {"error"}), 404 elsewhere; and what
 * the backend's client (src/backends/vz/vfkit.ts) makes of it. The VM boots the base image's
 * kernel with two blank disks: enough for QEMU to run, no guest needed.
 */
const skip = vmTestsMissing() ?? standinMissing();
if (skip) console.warn(`vfkit stand-in REST tests: ${skip}`);

describe.skipIf(skip)("vfkit stand-in: the REST API", () => {
  const dir = mkdtempSync(join(tmpdir(), "shed-vz-rest-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("GET/POST /vm/state as vfkit answers them; HardStop ends vfkit (exit 0) and its sockets go", async () => {
    const { ref } = await baseImage();
    const store = openContentStore(join(dir, "images"));
    const images = storeImageSource({ store, stateDir: dir, resolve: (layoutRef, progress) => importLayoutRef(store, layoutRef, progress) });
    const boot = await prepareBootImage(images, ref, join(dir, "boot"), () => {});
    for (const d of ["a.img", "b.img"]) writeFileSync(join(dir, d), Buffer.alloc(1024 * 1024));
    const standin = installStandin(dir);
    const rest = join(dir, "rest.sock");
    const agent = join(dir, "agent.sock");
    const p = Bun.spawn(
      [
        standin.path,
        "--cpus", "1", "--memory", "256",
        "--bootloader", `linux,kernel=${boot.kernel},initrd=${boot.initrd},cmdline="console=hvc0 panic=-1"`,
        "--pidfile", join(dir, "vfkit.pid"),
        "--restful-uri", `unix://${rest}`,
        "--device", `virtio-blk,path=${join(dir, "a.img")}`,
        "--device", `virtio-blk,path=${join(dir, "b.img")},readonly`,
        "--device", `virtio-vsock,port=1024,socketURL=${agent},connect`,
        "--device", `virtio-serial,logFilePath=${join(dir, "console.log")}`,
      ],
      { stdout: "pipe", stderr: "pipe" },
    );
    try {
      const deadline = Date.now() + 120_000;
      let state = "";
      while (state !== "VirtualMachineStateRunning" && Date.now() < deadline && p.exitCode === null) {
        state = existsSync(rest) ? await vmState(rest).catch(() => "") : "";
        await Bun.sleep(100);
      }
      expect(state).toBe("VirtualMachineStateRunning");
      expect(Number(await Bun.file(join(dir, "vfkit.pid")).text())).toBe(p.pid);
      expect(existsSync(agent)).toBe(true);

      const call = (method: string, path: string, body?: string) =>
        fetch(`http://localhost${path}`, { unix: rest, method, body } as RequestInit).then(async (r) => ({ status: r.status, text: await r.text() }));
      expect(JSON.parse((await call("GET", "/vm/state")).text)).toEqual({
        state: "VirtualMachineStateRunning",
        canStart: false,
        canPause: true,
        canResume: false,
        canStop: true,
        canHardStop: true,
      });
      expect(await call("GET", "/vm/nothing")).toEqual({ status: 404, text: "404 page not found" });
      expect((await call("POST", "/vm/state", "{not json")).status).toBe(400);
      expect(await call("POST", "/vm/state", '{"state":"Explode"}')).toEqual({ status: 500, text: '{"error":"invalid new VMState: Explode"}' });
      expect(await call("POST", "/vm/state", '{"state":"Pause"}')).toEqual({ status: 202, text: "" });
      expect(await vmState(rest)).toBe("VirtualMachineStatePaused");
      expect((await call("POST", "/vm/state", '{"state":"Stop"}')).status).toBe(500);
      expect((await call("POST", "/vm/state", '{"state":"Resume"}')).status).toBe(202);
      // The backend's own client: HardStop answered 202, then vfkit is gone with its sockets.
      await changeVmState(rest, "HardStop");
      expect(await p.exited).toBe(0);
      expect(existsSync(rest)).toBe(false);
      expect(existsSync(agent)).toBe(false);
      const events = standin.events().map((e) => e.event);
      expect(events[0]).toBe("invoked");
      expect(events.at(-1)).toBe("exited");
    } finally {
      if (p.exitCode === null) p.kill("SIGKILL");
    }
  }, 300_000);

  it("a vsock socketURL that already exists: vfkit's warning, the VM runs without that port, the file is left", async () => {
    const { ref } = await baseImage();
    const store = openContentStore(join(dir, "images"));
    const images = storeImageSource({ store, stateDir: dir, resolve: (layoutRef, progress) => importLayoutRef(store, layoutRef, progress) });
    const boot = await prepareBootImage(images, ref, join(dir, "boot"), () => {});
    const sub = mkdtempSync(join(dir, "stale-"));
    writeFileSync(join(sub, "a.img"), Buffer.alloc(1024 * 1024));
    const standin = installStandin(sub);
    const rest = join(sub, "rest.sock");
    const agent = join(sub, "agent.sock");
    writeFileSync(agent, "left by someone\n");
    const p = Bun.spawn(
      [
        standin.path,
        "--memory", "256",
        "--bootloader", `linux,kernel=${boot.kernel},initrd=${boot.initrd},cmdline="console=hvc0 panic=-1"`,
        "--restful-uri", `unix://${rest}`,
        "--device", `virtio-blk,path=${join(sub, "a.img")}`,
        "--device", `virtio-vsock,port=1024,socketURL=${agent},connect`,
      ],
      { stdout: "pipe", stderr: "pipe" },
    );
    try {
      const deadline = Date.now() + 120_000;
      let state = "";
      while (state !== "VirtualMachineStateRunning" && Date.now() < deadline && p.exitCode === null) {
        state = existsSync(rest) ? await vmState(rest).catch(() => "") : "";
        await Bun.sleep(100);
      }
      expect(state).toBe("VirtualMachineStateRunning");
      await changeVmState(rest, "HardStop");
      expect(await p.exited).toBe(0);
      const stderr = await new Response(p.stderr).text();
      expect(stderr).toContain(`level=warning msg="error exposing vsock port 1024: listen unix ${agent}: bind: address already in use"`);
      expect(standin.events().some((e) => e.event === "warning")).toBe(true);
      const qemu = standin.events().find((e) => e.event === "qemu")!.argv!;
      expect(qemu.join(" ")).not.toContain("name=shed.agent");
      expect(await Bun.file(agent).text()).toBe("left by someone\n");
    } finally {
      if (p.exitCode === null) p.kill("SIGKILL");
    }
  }, 300_000);
});
