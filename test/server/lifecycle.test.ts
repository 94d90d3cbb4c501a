import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanupDocker, ensureTestImage, missing, namePrefix, sh, startServer, type TestServer } from "../harness/index.ts";

const skip = missing({ docker: true });

function inspect(name: string): any {
  const out = sh(`docker inspect ${namePrefix}${name} 2>/dev/null || true`);
  const parsed = out.trim() ? JSON.parse(out) : [];
  return parsed[0];
}

function volumeExists(name: string): boolean {
  return sh(`docker volume ls -q --filter name=^${namePrefix}${name}-workspace$`).trim() !== "";
}

describe.skipIf(skip)("shed lifecycle on Docker (compiled binaries, real dockerd)", () => {
  let server: TestServer;
  let image: string;

  beforeAll(async () => {
    image = await ensureTestImage("debian");
    server = await startServer({ config: { docker: { default_image: image, image_aliases: { dev: image } } } });
  });
  afterAll(async () => {
    await server?.stop();
    cleanupDocker();
  });

  it("create -> list -> stop -> start -> reset -> delete", async () => {
    const created = await server.shed(["create", "life", "--image", "dev", "--cpus", "1.5", "--memory", "768"]);
    expect(created.stderr).toContain("agent");
    expect(created.code).toBe(0);
    const c = inspect("life");
    expect(c.State.Running).toBe(true);
    expect(c.Config.Labels["shed.name"]).toBe("life");
    expect(c.Config.Labels["shed.test"]).toBe("1");
    expect(c.Config.Image).toBe(image);
    expect(c.HostConfig.NanoCpus).toBe(1.5e9);
    expect(c.HostConfig.Memory).toBe(768 * 1024 * 1024);
    expect(c.HostConfig.Init).toBe(true);
    expect(volumeExists("life")).toBe(true);

    const list = await server.shedJson(["list"]);
    expect(list.sheds).toHaveLength(1);
    expect(list.sheds[0]).toMatchObject({ name: "life", state: "running", backend: "docker", image, cpus: 1.5, memoryMb: 768 });
    const human = await server.shed(["list"]);
    expect(human.stdout).toMatch(/NAME\s+STATE\s+BACKEND/);
    expect(human.stdout).toMatch(/life\s+running\s+docker/);

    // Something written into the shed's workspace and its root survives stop/start...
    sh(`docker exec ${namePrefix}life sh -c 'echo kept > /workspace/file && echo kept > /root/file'`);
    expect((await server.shedJson(["reset", "life", "-y"])).error.code).toBe("SHED_NOT_STOPPED");
    expect((await server.shedJson(["stop", "life"])).state).toBe("stopped");
    expect(inspect("life").State.Running).toBe(false);
    expect((await server.shedJson(["stop", "life"])).state).toBe("stopped");
    expect((await server.shedJson(["start", "life"])).state).toBe("running");
    expect(sh(`docker exec ${namePrefix}life cat /workspace/file /root/file`)).toBe("kept\nkept\n");

    // ...and reset wipes it back to the image, same name and settings.
    await server.shedJson(["stop", "life"]);
    const reset = await server.shedJson(["reset", "life", "-y"]);
    expect(reset).toMatchObject({ name: "life", state: "stopped", cpus: 1.5, memoryMb: 768 });
    await server.shedJson(["start", "life"]);
    expect(sh(`docker exec ${namePrefix}life sh -c 'ls /workspace; test -e /root/file || echo gone'`)).toBe("gone\n");

    const busy = await server.shedJson(["delete", "life", "-y"]);
    expect(busy.error.code).toBe("SHED_NOT_STOPPED");
    const del = await server.shed(["delete", "life", "--force"]);
    expect(del.code).toBe(0);
    expect(inspect("life")).toBeUndefined();
    expect(volumeExists("life")).toBe(false);
    expect((await server.shedJson(["list"])).sheds).toEqual([]);
  });

  it("refuses a duplicate and leaves the first untouched", async () => {
    await server.shedJson(["create", "dup"]);
    const again = await server.shedJson(["create", "dup"]);
    expect(again.error.code).toBe("SHED_EXISTS");
    expect((await server.shedJson(["info", "dup"])).state).toBe("running");
    await server.shedJson(["delete", "dup", "--force"]);
  });

  it("a failed create cleans up everything it made", async () => {
    const r = await server.shedJson(["create", "noimage", "--image", "shed-test/does-not-exist:1"]);
    expect(r.error.code).toBe("IMAGE_NOT_FOUND");
    expect(r.error.message).toContain("shed-test/does-not-exist:1");
    expect(inspect("noimage")).toBeUndefined();
    expect(volumeExists("noimage")).toBe(false);
    expect((await server.shedJson(["list"])).sheds).toEqual([]);
  });

  it("a shed whose agent cannot start fails with the reason and leaves nothing", async () => {
    const broken = await startServer({ config: { agent_path: "/bin/false", docker: { default_image: image } } });
    try {
      const r = await broken.shedJson(["create", "noagent"]);
      expect(r.error.code).toBe("AGENT_UNAVAILABLE");
      expect(r.error.message).toContain("container exited");
      expect(inspect("noagent")).toBeUndefined();
      expect(volumeExists("noagent")).toBe(false);
      expect((await broken.shedJson(["list"])).sheds).toEqual([]);
    } finally {
      await broken.stop();
    }
  });

  it("a restart of shed-server leaves running sheds running and listed", async () => {
    await server.shedJson(["create", "survivor"]);
    await server.shedJson(["create", "sleeper"]);
    await server.shedJson(["stop", "sleeper"]);
    await server.kill("SIGKILL");
    expect(inspect("survivor").State.Running).toBe(true);
    await server.restart();
    const list = await server.shedJson(["list"]);
    const states = Object.fromEntries(list.sheds.map((s: any) => [s.name, s.state]));
    expect(states).toEqual({ survivor: "running", sleeper: "stopped" });
    // Stopped behind shed's back: the next server start notices.
    sh(`docker stop -t 1 ${namePrefix}survivor >/dev/null`);
    await server.restart();
    expect((await server.shedJson(["info", "survivor"])).state).toBe("stopped");
    expect((await server.shedJson(["start", "survivor"])).state).toBe("running");
    await server.shedJson(["delete", "survivor", "--force"]);
    await server.shedJson(["delete", "sleeper", "-y"]);
  });

  it("streams progress as SSE when asked, JSON lines with --json", async () => {
    const res = await fetch(`${server.url}/api/sheds`, {
      method: "POST",
      headers: { accept: "text/event-stream", "content-type": "application/json" },
      body: JSON.stringify({ name: "sse" }),
    });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const text = await res.text();
    expect(text).toContain("event: progress");
    expect(text).toMatch(/event: result\ndata: \{"name":"sse"/);
    // Progress as JSON lines goes to stderr; stdout has the one result document.
    const del = await server.shed(["--json", "--progress", "json", "delete", "sse", "--force"]);
    const lines = del.stderr.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.some((l) => l.progress)).toBe(true);
    expect(JSON.parse(del.stdout)).toEqual({ name: "sse", deleted: true });
  });
});
