import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type TestServer } from "../harness/index.ts";
import { baseImage, IMAGE_HOOK_MS, vmTestsMissing } from "../qemu/guest-image.ts";
import { httpClient, type McpHarness, stdioClient } from "./mcp-client.ts";

const missingWhy = vmTestsMissing();
if (missingWhy) console.log(missingWhy);

/**
 * The MCP tools against a qemu shed: a real VM under TCG booted from the base guest image,
 * with `qemu.network: none` (no netns needed: the agent talks over virtio-serial).
 */
describe.skipIf(Boolean(missingWhy))("MCP tools against a qemu shed (TCG, network none)", () => {
  let server: TestServer;
  let http: McpHarness;
  let stdio: McpHarness;

  beforeAll(async () => {
    const image = (await baseImage()).ref;
    server = await startServer({
      config: {
        enabled_backends: ["qemu"],
        default_backend: "qemu",
        qemu: { accel: "tcg", network: "none", default_cpus: 2, default_memory_mb: 1024, stop_timeout: 90, image_aliases: { base: image } },
      },
    });
    http = await httpClient(server);
    stdio = await stdioClient(server);
  }, IMAGE_HOOK_MS);
  afterAll(async () => {
    await http?.ok("delete_shed", { name: "vm1", confirm: true, force: true }).catch(() => {});
    await http?.close().catch(() => {});
    await stdio?.close().catch(() => {});
    await server?.stop();
  });

  it("create (progress), exec, files, sessions, cancel, snapshot, delete on a VM", { timeout: 900_000 }, async () => {
    const { tools } = await http.client.listTools();
    const create = tools.find((t) => t.name === "create_shed")!.inputSchema as any;
    expect(create.properties.backend.enum).toEqual(["qemu"]);
    const progress: string[] = [];
    const created = await http.call("create_shed", { name: "vm1", image: "base" }, { onprogress: (p) => progress.push(p.message ?? "") });
    expect(created.isError, JSON.stringify(created.content)).toBeFalsy();
    expect(created.structuredContent).toMatchObject({ name: "vm1", backend: "qemu", state: "running" });
    expect(progress.length).toBeGreaterThan(0);

    for (const mcp of [http, stdio]) {
      expect(await mcp.ok("exec", { name: "vm1", command: "echo out; echo err >&2; exit 5" })).toMatchObject({ exitCode: 5, stdout: "out\n", stderr: "err\n" });
      expect((await mcp.ok("exec", { name: "vm1", argv: ["cat"], stdin: "in the vm\n" })).stdout).toBe("in the vm\n");
    }
    const big = await http.ok("exec", { name: "vm1", command: "seq 1 100000", maxOutputBytes: 1000 });
    expect(big).toMatchObject({ stdoutTruncated: true, stdoutBytes: 588_895 });
    await http.ok("write_file", { name: "vm1", path: "/workspace/x/hello.txt", content: "hello vm\n" });
    expect((await http.ok("read_file", { name: "vm1", path: "/workspace/x/hello.txt" })).content).toBe("hello vm\n");
    expect((await http.ok("list_directory", { name: "vm1", path: "/workspace/x" })).entries.map((e: any) => e.name)).toEqual(["hello.txt"]);
    await http.ok("exec", { name: "vm1", argv: ["tmux", "new-session", "-d", "-s", "vmwork", "sleep 600"] });
    expect((await http.ok("list_sessions", { name: "vm1" })).sessions.map((s: any) => s.name)).toContain("vmwork");
    await http.ok("kill_session", { name: "vm1", session: "vmwork" });

    const abort = new AbortController();
    const call = stdio.call("exec", { name: "vm1", command: "echo $$ > /tmp/long.pid; exec sleep 300" }, { signal: abort.signal });
    let pid = "";
    for (let i = 0; i < 300 && !pid; i++) {
      pid = (await http.ok("exec", { name: "vm1", command: "cat /tmp/long.pid 2>/dev/null" })).stdout.trim();
      if (!pid) await Bun.sleep(200);
    }
    expect(pid).toMatch(/^\d+$/);
    abort.abort();
    await expect(call).rejects.toThrow();
    let alive = true;
    for (let i = 0; i < 150 && alive; i++) {
      alive = (await http.ok("exec", { name: "vm1", argv: ["kill", "-0", pid] })).exitCode === 0;
      if (alive) await Bun.sleep(200);
    }
    expect(alive, "the cancelled command still runs in the VM").toBe(false);

    // Snapshots on a VM: stopped, captured over stdio, listed over HTTP, deleted (confirm).
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(["create_snapshot", "list_snapshots", "snapshot_info", "delete_snapshot"]));
    expect((await http.ok("stop_shed", { name: "vm1" })).state).toBe("stopped");
    expect(await stdio.ok("create_snapshot", { shed: "vm1", name: "vm1-snap" })).toMatchObject({ name: "vm1-snap", backend: "qemu", sourceShed: "vm1" });
    expect((await http.ok("list_snapshots")).snapshots.map((s: any) => [s.name, s.backend])).toEqual([["vm1-snap", "qemu"]]);
    expect(await http.ok("delete_snapshot", { name: "vm1-snap", confirm: true })).toEqual({ name: "vm1-snap", deleted: true });

    expect(await http.ok("delete_shed", { name: "vm1", confirm: true, force: true })).toEqual({ name: "vm1", deleted: true });
    expect((await http.ok("list_sheds")).sheds).toEqual([]);
  });
});
