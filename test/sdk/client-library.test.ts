import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ShedClient, ShedError } from "../../src/sdk/index.ts";
import { cleanupDocker, ensureTestImage, missing, sh, startServer, type TestServer } from "../harness/index.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const skip = missing({ docker: true, commands: ["node"] });
const nodeMajor = Number(/^v(\d+)/.exec(Bun.spawnSync(["node", "--version"]).stdout.toString())?.[1] ?? 0);

/** The client library: typed calls from source, the built bundle under Node and Bun, and the example script. */
describe.skipIf(skip)("client library (ShedClient) and examples/run-tests.mjs against a real server", () => {
  let server: TestServer;
  let dir: string;
  let client: ShedClient;

  beforeAll(async () => {
    const image = await ensureTestImage("debian");
    dir = mkdtempSync(join(tmpdir(), "shed-sdk-"));
    for (const [name, script] of [["good", "echo 3 tests passed"], ["bad", "echo 1 test failed >&2; exit 3"]] as const) {
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, "run-tests.sh"), `${script}\n`);
    }
    sh(`cd ${ROOT} && node_modules/.bin/bun build.ts --only client`);
    server = await startServer({ config: { docker: { default_image: image } } });
    client = new ShedClient({ url: server.url });
  });
  afterAll(async () => {
    client?.close();
    await server?.stop();
    cleanupDocker();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("typed calls with the API's error codes; exec streams through spawn", async () => {
    expect((await client.serverInfo()).defaultBackend).toBe("docker");
    const err = await client.get("nope").catch((e) => e);
    expect(err).toBeInstanceOf(ShedError);
    expect(err.code).toBe("SHED_NOT_FOUND");
    const shed = await client.create({ name: "lib1" });
    expect(shed.state).toBe("running");
    const proc = await client.spawn("lib1", { argv: ["sh", "-c", "read x; echo got $x; echo e >&2; exit 4"] });
    const w = proc.stdin.getWriter();
    await w.write(new TextEncoder().encode("line\n"));
    await w.close();
    const [out, errText, status] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exit]);
    expect([out, errText, status.code]).toEqual(["got line\n", "e\n", 4]);
    expect((await client.list()).map((s) => s.name)).toEqual(["lib1"]);
    await client.delete("lib1", { force: true });
  });

  const example = (runtime: string, project: string) =>
    Bun.spawn([runtime, join(ROOT, "examples/run-tests.mjs"), "--local-dir", join(dir, project), "--test", "sh run-tests.sh", "--name", `ex-${project}`], {
      env: { ...process.env, SHED_URL: server.url },
      stdout: "pipe",
      stderr: "pipe",
    });

  it("the example runs a project's tests in a fresh shed, reports them, and deletes the shed (Bun)", async () => {
    for (const [project, passed, code] of [["good", true, 0], ["bad", false, 3]] as const) {
      const p = example("bun", project);
      const [out, , exit] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
      const report = JSON.parse(out);
      expect(report, out).toMatchObject({ shed: `ex-${project}`, passed, exitCode: code });
      expect(exit).toBe(code);
      expect(project === "good" ? report.stdout : report.stderr).toMatch(/test/);
    }
    expect(await client.list()).toEqual([]);
  });

  it("the bundle loads under Node and makes API calls", async () => {
    const script = `import { ShedClient } from ${JSON.stringify(join(ROOT, "dist/client/shed-client.js"))};
      const c = new ShedClient({ url: ${JSON.stringify(server.url)} });
      const info = await c.serverInfo();
      const err = await c.get("nope").catch((e) => e);
      console.log(JSON.stringify({ backend: info.defaultBackend, code: err.code, sheds: (await c.list()).length }));`;
    const p = Bun.spawn(["node", "--input-type=module", "-e", script], { stdout: "pipe", stderr: "pipe" });
    const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    expect(JSON.parse(out || "null"), err).toEqual({ backend: "docker", code: "SHED_NOT_FOUND", sheds: 0 });
  });

  it.skipIf(nodeMajor < 22)(`the example under Node (needs Node 22+ for its WebSocket; this is Node ${nodeMajor})`, async () => {
    const p = example("node", "good");
    const [out, , exit] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    expect(JSON.parse(out)).toMatchObject({ passed: true, exitCode: 0 });
    expect(exit).toBe(0);
  });
});
