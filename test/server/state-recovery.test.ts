import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanupDocker, ensureTestImage, missing, namePrefix, sh, startServer, type TestServer } from "../harness/index.ts";

const skip = missing({ docker: true });

function running(name: string): boolean | undefined {
  const out = sh(`docker inspect -f '{{.State.Running}}' ${namePrefix}${name} 2>/dev/null || true`).trim();
  return out === "" ? undefined : out === "true";
}
const volumeExists = (name: string) => sh(`docker volume ls -q --filter name=^${namePrefix}${name}-workspace$`).trim() !== "";

/**
 * State that never hides (issue 14, defect 7): a shed whose state file is corrupt is listed
 * as `error` with the reason, and `delete --force` removes what the backend finds by its
 * labels; when the state write fails after the backend acted (a full disk), the next read
 * asks the backend and shows the truth.
 */
describe.skipIf(skip)("state that hides nothing (Docker)", () => {
  let server: TestServer;

  beforeAll(async () => {
    const image = await ensureTestImage("busybox");
    server = await startServer({ config: { docker: { default_image: image } } });
  });
  afterAll(async () => {
    await server?.stop();
    cleanupDocker();
  });

  it("a corrupt state file: listed as error with the reason; delete --force cleans up; the name is free again", async () => {
    expect((await server.shedJson(["create", "torn"])).state).toBe("running");
    writeFileSync(join(server.stateDir, "sheds", "torn.json"), '{"name":"torn","backend":"doc');
    const list = await server.shedJson(["list"]);
    const torn = list.sheds.find((s: { name: string }) => s.name === "torn");
    expect(torn).toMatchObject({ name: "torn", state: "error", backend: "docker" });
    expect(torn.error).toMatch(/state file/);
    const info = await fetch(`${server.url}/api/sheds/torn`);
    expect(info.status).toBe(200);
    expect(((await info.json()) as { state: string }).state).toBe("error");
    expect(running("torn")).toBe(true);
    // Also after a restart of the server.
    await server.restart();
    expect((await server.shedJson(["list"])).sheds.map((s: { name: string; state: string }) => `${s.name}:${s.state}`)).toEqual(["torn:error"]);

    const del = await server.shed(["delete", "torn", "--force"]);
    expect(del.code, del.stderr).toBe(0);
    expect(running("torn")).toBeUndefined();
    expect(volumeExists("torn")).toBe(false);
    expect(existsSync(join(server.stateDir, "sheds", "torn.json"))).toBe(false);
    expect((await server.shedJson(["create", "torn"])).state).toBe("running");
    await server.shedJson(["delete", "torn", "--force"]);
  });

  it("a state file whose backend instance is gone: delete --force still removes the record", async () => {
    await server.shedJson(["create", "ghostly"]);
    writeFileSync(join(server.stateDir, "sheds", "ghostly.json"), "not json at all");
    sh(`docker rm -f -v ${namePrefix}ghostly >/dev/null`);
    const del = await server.shedJson(["delete", "ghostly", "--force"]);
    expect(del).toMatchObject({ name: "ghostly", deleted: true });
    expect((await server.shedJson(["list"])).sheds).toEqual([]);
  });

  it("a full disk after a stop: the stop says so, and the next read shows the truth", async () => {
    await server.shedJson(["create", "full"]);
    const sheds = join(server.stateDir, "sheds");
    // The state files' dir on its own tiny file system, filled to the last byte.
    await server.kill("SIGTERM");
    const saved = sh(`cat ${sheds}/full.json`);
    sh(`mount -t tmpfs -o size=64k tmpfs ${sheds}`);
    try {
      writeFileSync(join(sheds, "full.json"), saved);
      await server.restart();
      expect((await server.shedJson(["info", "full"])).state).toBe("running");
      sh(`dd if=/dev/zero of=${sheds}/.filler bs=4k 2>/dev/null || true`);
      const stop = await server.shedJson(["stop", "full"]);
      expect(stop.error?.code).toBe("STORAGE_FULL");
      expect(running("full")).toBe(false);
      // The file still says running; what the server says is what the engine says.
      expect(sh(`cat ${sheds}/full.json`)).toContain('"running"');
      expect((await server.shedJson(["info", "full"])).state).toBe("stopped");
      expect((await server.shedJson(["list"])).sheds[0]).toMatchObject({ name: "full", state: "stopped" });
      sh(`rm -f ${sheds}/.filler`);
      expect((await server.shedJson(["start", "full"])).state).toBe("running");
      expect(sh(`cat ${sheds}/full.json`)).toContain('"running"');
      await server.shedJson(["delete", "full", "--force"]);
    } finally {
      await server.kill("SIGTERM");
      sh(`umount ${sheds}`, { allowFail: true });
      await server.restart();
    }
  });
});
