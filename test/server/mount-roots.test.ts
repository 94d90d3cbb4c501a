import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanupDocker, ensureTestImage, missing, namePrefix, sh, startServer, type TestServer } from "../harness/index.ts";

const skip = missing({ docker: true });

/**
 * What the API may mount (issue 14, defect 0): --local-dir, --add-dir and config mounts only
 * from under mount_roots, never /, /etc, the state dir or a symlink out of a root; 403 naming
 * the roots otherwise. Through the API and the CLI, on Docker.
 */
describe.skipIf(skip)("mount roots on Docker", () => {
  let server: TestServer;
  const root = mkdtempSync(join(tmpdir(), "shed-roots-"));
  const outside = mkdtempSync(join(tmpdir(), "shed-outside-"));

  beforeAll(async () => {
    const image = await ensureTestImage("busybox");
    mkdirSync(join(root, "project"));
    symlinkSync("/etc", join(root, "etc-link"));
    symlinkSync(outside, join(root, "outside-link"));
    server = await startServer({ config: { mount_roots: [root], docker: { default_image: image } } });
  });
  afterAll(async () => {
    await server?.stop();
    cleanupDocker();
    rmSync(root, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  const create = (body: Record<string, unknown>) =>
    fetch(`${server.url}/api/sheds`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

  it("refuses localDir /etc, /, the state dir and symlinks out of a root with 403 naming the roots", async () => {
    const refused: Record<string, unknown>[] = [
      { name: "m1", localDir: "/etc" },
      { name: "m2", localDir: "/" },
      { name: "m3", localDir: server.stateDir },
      { name: "m4", localDir: join(root, "etc-link") },
      { name: "m5", localDir: join(root, "outside-link") },
      { name: "m6", localDir: outside },
      { name: "m7", addDirs: ["/etc:/mnt/etc:ro"] },
      { name: "m8", addDirs: [`${join(root, "etc-link")}:/mnt/x`] },
    ];
    for (const body of refused) {
      const res = await create(body);
      const err = (await res.json()) as { code: string; message: string };
      expect(res.status, JSON.stringify(body)).toBe(403);
      expect(err.code).toBe("FORBIDDEN");
      expect(err.message).toContain(root);
    }
    // Nothing was made for any of them.
    expect(sh(`docker ps -aq --filter name=^${namePrefix}m`).trim()).toBe("");
    expect((await server.shedJson(["list"])).sheds).toEqual([]);
  });

  it("the CLI says the same: --local-dir /etc is refused with FORBIDDEN", async () => {
    const r = await server.shedJson(["create", "viacli", "--local-dir", "/etc"]);
    expect(r.error.code).toBe("FORBIDDEN");
    expect(r.error.message).toContain(root);
    const human = await server.shed(["create", "viacli2", "--local-dir", join(root, "etc-link")]);
    expect(human.code).not.toBe(0);
    expect(human.stderr).toContain("FORBIDDEN");
  });

  it("a directory under the root is mounted as /workspace", async () => {
    await Bun.write(join(root, "project", "hello.txt"), "from the host\n");
    const r = await server.shedJson(["create", "inroot", "--local-dir", join(root, "project")]);
    expect(r.state).toBe("running");
    expect(sh(`docker exec ${namePrefix}inroot cat /workspace/hello.txt`)).toBe("from the host\n");
    await server.shedJson(["delete", "inroot", "--force"]);
  });
});
