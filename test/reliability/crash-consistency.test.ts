import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { busyboxRootfsTar } from "../harness/images.ts";
import { cleanupDocker, ensureTestImage, missing, runId, sh, startServer, type TestServer } from "../harness/index.ts";
import { makeLayoutImage, randomLayerTar, skopeoCopy } from "../oci/lib/images.ts";
import { startRegistry, type TestRegistry } from "../oci/lib/registry.ts";
import { KNOBS, rng } from "./lib.ts";

const skip = missing({ docker: true, commands: ["docker-registry", "skopeo"] });

type Op = "create" | "delete" | "start" | "stop" | "pull";
const OPS: Op[] = ["create", "delete", "start", "stop", "pull"];

/**
 * Crash consistency (issue 14): shed-server is killed with SIGKILL at a random moment during
 * create, delete, start, stop and image pull (from a local docker-registry), then restarted.
 * After every restart each shed is listed in a settled state that matches the engine, and
 * `delete --force` and a re-create of the same name work; at the end no container, volume,
 * VM process or blob is left over.
 */
describe.skipIf(skip)("crash consistency (kill -9 during operations, Docker backend)", () => {
  let server: TestServer;
  let registry: TestRegistry;
  let imageRef: string;
  const work = mkdtempSync(join(tmpdir(), "shed-crash-"));

  beforeAll(async () => {
    const busybox = await ensureTestImage("busybox");
    registry = await startRegistry(join(work, "registry"));
    const layout = join(work, "layout");
    // A few MB in several layers, so a pull takes long enough to be cut.
    const layers = [busyboxRootfsTar(), ...[0, 1, 2].map((i) => randomLayerTar(work, `l${i}`, 3 * 1024 * 1024))];
    makeLayoutImage(layout, { tag: "crash", layers, gzip: true });
    imageRef = `${registry.host}/crash/img:1`;
    await skopeoCopy(`oci:${layout}:crash`, `docker://${imageRef}`);
    server = await startServer({ config: { docker: { default_image: busybox, stop_timeout: 2 } } });
  });
  afterAll(async () => {
    await server?.stop();
    await registry?.stop();
    cleanupDocker();
    rmSync(work, { recursive: true, force: true });
  });

  const api = (method: string, path: string, body?: unknown) =>
    fetch(`${server.url}/api${path}`, { method, ...(body ? { body: JSON.stringify(body) } : {}) }).then(async (r) => ({ status: r.status, body: (await r.json().catch(() => ({}))) as any }));

  const containers = () =>
    sh(`docker ps -a --filter label=shed.test.run=${runId} --format '{{.Label "shed.name"}} {{.State}}'`)
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split(" ") as [string, string]);
  const volumes = () => sh(`docker volume ls -q --filter label=shed.test.run=${runId}`).trim().split("\n").filter(Boolean);

  /** Every listed shed is settled and says what the engine says; nothing in the engine is unlisted. */
  async function expectConsistent(where: string): Promise<void> {
    const sheds = (await api("GET", "/sheds")).body.sheds as { name: string; state: string }[];
    const engine = new Map(containers());
    for (const s of sheds) {
      expect(["running", "stopped", "error"], `${where}: ${s.name}`).toContain(s.state);
      if (s.state === "running") expect(engine.get(s.name), `${where}: ${s.name} running`).toBe("running");
      if (s.state === "stopped") expect(engine.get(s.name), `${where}: ${s.name} stopped`).not.toBe("running");
    }
    for (const [name] of engine) expect(sheds.map((s) => s.name), `${where}: container of ${name} has no shed`).toContain(name);
  }

  /** Puts the shed where the op starts from: absent for create, running for stop/delete, stopped for start. */
  async function prepare(op: Op, name: string): Promise<void> {
    if (op === "pull") {
      await api("DELETE", `/images?ref=${encodeURIComponent(imageRef)}&force=true`);
      return;
    }
    await api("DELETE", `/sheds/${name}?force=true`);
    if (op === "create") return;
    expect((await api("POST", "/sheds", { name })).body.state).toBe("running");
    if (op === "start") expect((await api("POST", `/sheds/${name}/stop`)).body.state).toBe("stopped");
  }

  function launch(op: Op, name: string): Promise<unknown> {
    const paths: Record<Op, [string, string, unknown?]> = {
      create: ["POST", "/sheds", { name }],
      delete: ["DELETE", `/sheds/${name}?force=true`],
      start: ["POST", `/sheds/${name}/start`],
      stop: ["POST", `/sheds/${name}/stop`],
      pull: ["POST", "/images/pull", { ref: imageRef }],
    };
    const [method, path, body] = paths[op];
    return api(method, path, body).catch(() => undefined);
  }

  it(`${KNOBS.loops} loops of kill -9 during create, delete, start, stop and pull`, async () => {
    const r = rng(KNOBS.seed);
    const seen: string[] = [];
    for (let i = 0; i < KNOBS.loops; i++) {
      const op = OPS[i % OPS.length]!;
      const name = `crash-${op}`;
      await prepare(op, name);
      const pending = launch(op, name);
      const delayMs = r.int(op === "pull" ? 400 : 1500);
      await Bun.sleep(delayMs);
      await server.kill("SIGKILL");
      await pending;
      await server.restart();
      const where = `loop ${i} (${op}, killed after ${delayMs} ms)`;
      seen.push(`${op}@${delayMs}`);
      await expectConsistent(where);
      if (op === "pull") {
        // The pull completes after the crash; the image is whole.
        const again = await api("POST", "/images/pull", { ref: imageRef });
        expect(again.status, `${where}: ${JSON.stringify(again.body)}`).toBe(200);
        expect((await api("GET", `/images/inspect?ref=${encodeURIComponent(imageRef)}`)).status).toBe(200);
        continue;
      }
      // Whatever state it was left in, delete --force cleans it and the name works again.
      const del = await api("DELETE", `/sheds/${name}?force=true`);
      expect([204, 404], `${where}: delete --force: ${JSON.stringify(del.body)}`).toContain(del.status);
      const again = await api("POST", "/sheds", { name });
      expect(again.body.state, `${where}: re-create: ${JSON.stringify(again.body)}`).toBe("running");
      await expectConsistent(`${where}, after re-create`);
    }
    console.log(`crash consistency: ${KNOBS.loops} loops, seed ${KNOBS.seed}: ${seen.join(" ")}`);

    // Nothing left over: no container, volume, VM process or blob once everything is removed.
    for (const s of (await api("GET", "/sheds")).body.sheds as { name: string }[]) {
      expect((await api("DELETE", `/sheds/${s.name}?force=true`)).status).toBe(204);
    }
    await api("DELETE", `/images?ref=${encodeURIComponent(imageRef)}&force=true`);
    expect((await api("POST", "/images/prune", { all: true })).status).toBe(200);
    expect(containers()).toEqual([]);
    expect(volumes()).toEqual([]);
    const vms = sh("pgrep -a qemu-system || true").split("\n").filter((l) => l.includes(server.stateDir));
    expect(vms).toEqual([]);
    const store = join(server.stateDir, "images");
    expect(readdirSync(join(store, "blobs", "sha256"))).toEqual([]);
    expect(readdirSync(join(store, "tmp"))).toEqual([]);
    const runDir = join(server.stateDir, "run");
    expect(existsSync(runDir) ? readdirSync(runDir) : []).toEqual([]);
  });
});
