import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { startServer, type TestServer } from "../harness/index.ts";
import { IMAGE_HOOK_MS, vmTestsMissing } from "../qemu/guest-image.ts";
import { firecrackerPid, instanceDir, requestLog, standinBinary, standinSection, testVmlinux } from "./harness.ts";

/**
 * The firecracker backend as the Firecracker stand-in sees it: the exact requests of every
 * lifecycle step (from the stand-in's request log, each checked against the contract there),
 * Firecracker's refusals as typed errors naming the request, a guest that does not boot
 * reported with its console's last lines, and delete of a running shed.
 */
const skip = vmTestsMissing();
if (skip) console.warn(`firecracker backend: ${skip}`);
const T = 600_000;

describe.skipIf(skip)("firecracker backend through the stand-in", () => {
  const work = mkdtempSync(join(tmpdir(), "shed-fc-backend-"));
  const logDir = join(work, "requests");
  let server: TestServer;
  let kernel: string;

  const json = (args: string[]) => server.shedJson(args, { timeoutMs: T });
  const shed = (args: string[]) => server.shed(args, { timeoutMs: T });

  beforeAll(async () => {
    kernel = await testVmlinux();
    server = await startServer({
      config: {
        enabled_backends: ["firecracker"],
        default_backend: "firecracker",
        firecracker: await standinSection(standinBinary(join(work, "bin"), logDir), { network: "none" }),
      },
    });
  }, IMAGE_HOOK_MS);

  afterAll(async () => {
    if (server) for (const name of ["seq", "nofs"]) await server.shed(["delete", name, "--force"], { timeoutMs: T }).catch(() => {});
    await server?.stop();
    rmSync(work, { recursive: true, force: true });
  }, T);

  it("create: the requests in Firecracker's order, each accepted, bodies as the contract types them", async () => {
    const created = await shed(["create", "seq", "--image", "base", "--cpus", "1", "--memory", "768"]);
    expect(created.code, created.stderr).toBe(0);
    const log = requestLog(logDir, "shed-seq");
    expect(log.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      "GET / 200",
      "PUT /machine-config 204",
      "PUT /boot-source 204",
      "PUT /drives/upper 204",
      "PUT /drives/lower 204",
      "PUT /vsock 204",
      "PUT /actions 204",
    ]);
    const dir = instanceDir(server, "seq");
    expect(log[1]!.body).toEqual({ vcpu_count: 1, mem_size_mib: 768, smt: false });
    expect(log[2]!.body).toMatchObject({ kernel_image_path: kernel, initrd_path: expect.stringMatching(/initrd\.img$/) });
    const args = (log[2]!.body as { boot_args: string }).boot_args.split(" ");
    expect(args).toEqual(expect.arrayContaining(["console=ttyS0", "shed.name=seq", "shed.agent=vsock", "cgroup_enable=memory", "cgroup_memory=1"]));
    expect(log[3]!.body).toEqual({ drive_id: "upper", path_on_host: join(dir, "upper.ext4"), is_root_device: false, is_read_only: false });
    expect(log[4]!.body).toMatchObject({ drive_id: "lower", is_root_device: false, is_read_only: true });
    expect(log[5]!.body).toEqual({ guest_cid: 100, uds_path: expect.stringMatching(/firecracker\.vsock$/) });
    expect(log[6]!.body).toEqual({ action_type: "InstanceStart" });
    expect((await shed(["exec", "seq", "--", "cat", "/proc/cmdline"])).stdout).toContain("shed.name=seq");
  }, T);

  it("stop: the agent drains, then SendCtrlAltDel (only that); the microVM powers off and Firecracker exits", async () => {
    const before = requestLog(logDir, "shed-seq").length;
    expect((await json(["stop", "seq"])).state).toBe("stopped");
    expect(firecrackerPid(server, "seq")).toBeUndefined();
    // Ctrl-alt-del (again every 10 s until the guest goes, should a press be lost), nothing else.
    const sent = requestLog(logDir, "shed-seq").slice(before);
    expect(sent.length).toBeGreaterThan(0);
    for (const r of sent) expect(r).toEqual({ method: "PUT", path: "/actions", body: { action_type: "SendCtrlAltDel" }, status: 204 });
    // The guest shut down cleanly (systemd's power-off on ctrl-alt-del), not killed.
    const logs = await shed(["logs", "seq"]);
    expect(logs.stdout).toMatch(/reboot|Power-Off|shutdown/i);
  }, T);

  it("delete of a running shed: no power-off (the disk is discarded), everything gone", async () => {
    expect((await json(["start", "seq"])).state).toBe("running");
    const before = requestLog(logDir, "shed-seq").length;
    const del = await shed(["delete", "seq", "--force"]);
    expect(del.code, del.stderr).toBe(0);
    expect(requestLog(logDir, "shed-seq").slice(before).filter((r) => r.path === "/actions" && (r.body as { action_type: string }).action_type === "SendCtrlAltDel")).toEqual([]);
    expect(firecrackerPid(server, "seq")).toBeUndefined();
    expect(existsSync(instanceDir(server, "seq"))).toBe(false);
  }, T);

  /** The server again with its firecracker section changed (config file rewritten, restarted). */
  async function reconfigure(change: Record<string, unknown>) {
    const config = parse(readFileSync(server.configPath, "utf8")) as { firecracker: Record<string, unknown> };
    Object.assign(config.firecracker, change);
    await server.kill("SIGTERM");
    writeFileSync(server.configPath, stringify(config));
    await server.restart();
  }

  it("a guest that does not boot: a clear error with the console's last lines, and nothing left", async () => {
    // The initramfs finds no lower disk: shed-init says FATAL and powers off, the microVM ends.
    await reconfigure({ boot_args: "shed.lower=/dev/vdz" });
    const r = await json(["create", "nofs", "--image", "base", "--cpus", "1", "--memory", "768"]);
    expect(r.error.code).toBe("AGENT_UNAVAILABLE");
    expect(r.error.message).toContain("the microVM stopped while booting: shed-init: FATAL");
    expect(r.error.message).toMatch(/console \(.*console\.log\), last lines:\n/);
    expect(firecrackerPid(server, "nofs")).toBeUndefined();
    expect(existsSync(instanceDir(server, "nofs"))).toBe(false);
    expect(((await json(["list"])).sheds as { name: string }[]).map((s) => s.name)).not.toContain("nofs");
  }, T);

  it("a kernel Firecracker cannot load: Firecracker's refusal is the error, naming the request", async () => {
    const bad = join(work, "not-a-vmlinux");
    writeFileSync(bad, "this is no kernel\n");
    await reconfigure({ kernel_path: bad, boot_args: undefined });
    const r = await json(["create", "nofs", "--image", "base"]);
    expect(r.error.code).toBe("BACKEND_UNAVAILABLE");
    expect(r.error.message).toContain("Firecracker refused PUT /actions (400): Start microvm error: Cannot load kernel");
    expect(existsSync(instanceDir(server, "nofs"))).toBe(false);
    const log = requestLog(logDir, "shed-nofs");
    expect(log[log.length - 1]).toMatchObject({ method: "PUT", path: "/actions", status: 400 });
  }, T);
});
