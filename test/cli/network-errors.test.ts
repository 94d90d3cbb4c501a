import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runShed, startServer, type TestServer } from "../harness/index.ts";

/** The implicit local server is 127.0.0.1:8080: the NO_SERVER case needs nothing there. */
const localTaken = await new Promise<boolean>((resolve) => {
  const s = connect(8080, "127.0.0.1", () => {
    s.destroy();
    resolve(true);
  });
  s.on("error", () => resolve(false));
});
if (localTaken) console.log("skipping the NO_SERVER test: something listens on 127.0.0.1:8080 here");

/**
 * Issue 14, defects 3 and 10: servers that accept TCP and never answer, connections that
 * break off, bad ports and no configured server. Real listeners on 127.0.0.1; every command
 * must end promptly with a one-line error and a stable code (the harness kills a hung CLI
 * after its own timeout, so a hang fails the test).
 */
describe("client timeouts and network errors (compiled CLI)", () => {
  let silent: Server;
  let resetter: Server;
  const held: Socket[] = [];
  let silentPort = 0;
  let resetPort = 0;
  let live: TestServer;
  let dir: string;

  const listen = (server: Server) =>
    new Promise<number>((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)));

  beforeAll(async () => {
    // Accepts and never says a word: the hung server of defect 3.
    silent = createServer((s) => held.push(s));
    silentPort = await listen(silent);
    // Reads the request, then resets the connection: a server killed mid-call.
    resetter = createServer((s) => s.once("data", () => s.resetAndDestroy()));
    resetPort = await listen(resetter);
    live = await startServer({ config: { docker: { socket: "/nonexistent/docker.sock" } } });
    dir = mkdtempSync(join(tmpdir(), "shed-cli-net-"));
    writeFileSync(
      join(dir, "config.yaml"),
      `default_server: hung\nservers:\n  hung: { host: 127.0.0.1, http_port: ${silentPort} }\n  live: { host: 127.0.0.1, http_port: ${live.port} }\n`,
    );
  });
  afterAll(async () => {
    for (const s of held) s.destroy();
    silent?.close();
    resetter?.close();
    await live?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const shed = (args: string[], env: Record<string, string> = {}) =>
    runShed(args, { env: { SHED_CONFIG_DIR: dir, ...env }, timeoutMs: 30_000 });

  it("a server that never answers: list, info, exec, console and server add stop at the timeout with TIMEOUT", async () => {
    for (const args of [["list"], ["info", "x"], ["exec", "x", "--", "true"], ["console", "x"], ["server", "add", "127.0.0.1", "--http-port", String(silentPort), "--name", "h2"]]) {
      const r = await shed(["--json", "--timeout", "1s", ...args]);
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(125);
      expect(JSON.parse(r.stderr.trim()).error.code, args.join(" ")).toBe("TIMEOUT");
      expect(r.stdout).toBe("");
    }
    const env = await shed(["list"], { SHED_TIMEOUT: "1s" });
    expect(env.code).toBe(125);
    expect(env.stderr).toContain("did not answer within 1s");
    expect(env.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("list --all asks every server at once and reports the dead one as a warning", async () => {
    const r = await shed(["list", "--all", "--timeout", "1s"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("No sheds");
    expect(r.stderr).toMatch(/^warning: hung: .*did not answer within 1s/m);
    const j = await shed(["list", "--all", "--timeout", "1s", "--json"]);
    expect(JSON.parse(j.stdout)).toEqual({ sheds: [] });
    expect(JSON.parse(j.stderr.trim()).warning).toContain("hung");
  });

  it("a connection that breaks off is one line with CONNECTION_LOST, no runtime internals", async () => {
    const r = await shed(["list", "-s", `127.0.0.1:${resetPort}`]);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/broke off.*\(CONNECTION_LOST\)/);
    expect(r.stderr).not.toMatch(/verbose|ECONNRESET \.\.\.|at .*\.ts/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("--http-port 99999 is a usage error naming the flag, not an invalid URL", async () => {
    const r = await shed(["server", "add", "127.0.0.1", "--http-port", "99999"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--http-port takes a whole number of at most 65535");
  });

  it.skipIf(localTaken)("no configured server: a NO_SERVER line that says what to do", async () => {
    const empty = mkdtempSync(join(tmpdir(), "shed-cli-empty-"));
    try {
      writeFileSync(join(empty, "config.yaml"), "");
      const r = await runShed(["--json", "list"], { env: { SHED_CONFIG_DIR: empty, SHED_SERVER: "" }, timeoutMs: 30_000 });
      expect(JSON.parse(r.stderr.trim()).error.code).toBe("NO_SERVER");
      expect(r.code).toBe(125);
      expect(JSON.parse(r.stderr.trim()).error.message).toContain("shed server add");
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
