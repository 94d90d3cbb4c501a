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

/**
 * What only the Docker backend shows of the lifecycle; the lifecycle itself (create, exec,
 * list, stop, start, reset, delete, duplicates, failed creates, re-adoption, mounts, hooks)
 * is the suite every backend runs: test/backends/lifecycle.test.ts.
 */
describe.skipIf(skip)("shed lifecycle on Docker (compiled binaries, real dockerd)", () => {
  let server: TestServer;
  let image: string;

  beforeAll(async () => {
    image = await ensureTestImage("debian");
    server = await startServer({ config: { docker: { default_image: image } } });
  });
  afterAll(async () => {
    await server?.stop();
    cleanupDocker();
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

  it("a shed stopped behind shed's back: the next server start notices", async () => {
    await server.shedJson(["create", "survivor"]);
    sh(`docker stop -t 1 ${namePrefix}survivor >/dev/null`);
    await server.restart();
    expect((await server.shedJson(["info", "survivor"])).state).toBe("stopped");
    expect((await server.shedJson(["start", "survivor"])).state).toBe("running");
    await server.shedJson(["delete", "survivor", "--force"]);
  });

  it("create --timings reports its phases, marked by progress in order; the volume the engine made carries the shed's labels", async () => {
    const r = await server.shed(["--json", "--progress", "json", "create", "timed", "--timings"]);
    expect(r.code).toBe(0);
    const { timings } = JSON.parse(r.stdout);
    expect(Object.keys(timings)).toEqual(["image", "storage", "start", "agent", "provisioning", "total"]);
    for (const ms of Object.values(timings)) expect(ms).toBeGreaterThanOrEqual(0);
    // The boundaries --timings reads: the start's return, readiness after it, then provisioning apart.
    const marks = r.stderr
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).progress)
      .filter((p) => ["container", "agent", "provision"].includes(p?.id))
      .map((p) => `${p.id} ${p.status}`);
    expect(marks.slice(-5)).toEqual(["container starting", "agent waiting for agent", "agent ready", "provision provisioning", "provision done"]);
    // The connection that answered readiness is the pooled one: the first exec goes through it.
    expect((await server.shed(["exec", "timed", "--", "true"])).code).toBe(0);
    const labels = JSON.parse(sh(`docker volume inspect ${namePrefix}timed-workspace`))[0].Labels;
    expect(labels["shed.name"]).toBe("timed");
    await server.shedJson(["delete", "timed", "--force"]);
    expect(volumeExists("timed")).toBe(false);
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
