import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanupDocker, ensureTestImage, missing, startServer, type TestServer } from "../harness/index.ts";
import { errorText, httpClient, type McpHarness, stdioClient } from "./mcp-client.ts";

const skip = missing({ docker: true, commands: ["tmux"] });

/**
 * Issue 21: the MCP tools against a real shed-server and a real Docker shed, through the
 * SDK's own Client: `shed mcp` over stdio and /api/mcp over Streamable HTTP.
 */
describe.skipIf(skip)("MCP server (SDK client, stdio and Streamable HTTP, real Docker shed)", () => {
  let server: TestServer;
  let stdio: McpHarness;
  let http: McpHarness;
  let local: string;

  beforeAll(async () => {
    const image = await ensureTestImage("debian");
    local = mkdtempSync(join(tmpdir(), "shed-mcp-"));
    server = await startServer({ config: { docker: { default_image: image } } });
    const created = await server.shed(["create", "m1", "--no-sync"], { timeoutMs: 300_000 });
    if (created.code !== 0) throw new Error(created.stderr);
    stdio = await stdioClient(server);
    http = await httpClient(server);
  });
  afterAll(async () => {
    await stdio?.close().catch(() => {});
    await http?.close().catch(() => {});
    await server?.stop();
    cleanupDocker();
    if (local) rmSync(local, { recursive: true, force: true });
  });

  it("lists the tools with JSON schemas a model can use; the copy tools only where the files are (stdio)", async () => {
    const { tools } = await stdio.client.listTools();
    const names = tools.map((t) => t.name).sort();
    expect(names).toEqual(
      [
        "server_info", "list_sheds", "shed_info", "create_shed", "start_shed", "stop_shed", "delete_shed", "shed_logs",
        "exec", "read_file", "write_file", "list_directory", "copy_into_shed", "copy_out_of_shed", "list_sessions", "kill_session",
        "create_snapshot", "list_snapshots", "snapshot_info", "delete_snapshot",
      ].sort(),
    );
    for (const t of tools) {
      expect(t.description!.length, t.name).toBeGreaterThan(30);
      expect(t.inputSchema.type, t.name).toBe("object");
    }
    const byName = Object.fromEntries(tools.map((t) => [t.name, t.inputSchema as any]));
    // From the catalog: the shed name pattern, create's limits; from the agent protocol: exec's fields.
    expect(byName.shed_info.properties.name.pattern).toBe("^[a-z0-9][a-z0-9-]{0,62}$");
    expect(byName.shed_info.required).toEqual(["name"]);
    expect(Object.keys(byName.exec.properties).sort()).toEqual(["argv", "command", "cwd", "env", "maxOutputBytes", "name", "stdin", "timeoutSeconds", "user"]);
    expect(byName.exec.properties.argv.type).toBe("array");
    expect(byName.create_shed.properties.memoryMb.minimum).toBe(64);
    // Features as data: this server's backends by name, host directories since docker mounts them.
    expect(byName.create_shed.properties.backend.enum).toContain("docker");
    expect(byName.create_shed.properties.localDir).toBeDefined();
    expect(byName.delete_shed.properties.confirm.const).toBe(true);
    expect(byName.delete_shed.required).toEqual(["name", "confirm"]);
    // Docker has snapshots: the snapshot tools and create's fromSnapshot, with the catalog's name pattern.
    expect(byName.create_shed.properties.fromSnapshot.pattern).toBe("^[a-z0-9][a-z0-9-]{0,62}$");
    expect(byName.create_snapshot.required).toEqual(["shed", "name"]);
    expect(byName.create_snapshot.properties.comment.maxLength).toBe(1024);
    expect(byName.delete_snapshot.properties.confirm.const).toBe(true);
    expect(byName.delete_snapshot.required).toEqual(["name", "confirm"]);
    const overHttp = (await http.client.listTools()).tools.map((t) => t.name);
    expect(overHttp).not.toContain("copy_into_shed");
    expect(overHttp.length).toBe(names.length - 2);
  });

  it("exec: exit codes, stdout and stderr apart, stdin, argv or a shell line, env, cwd and user", async () => {
    for (const mcp of [stdio, http]) {
      const r = await mcp.ok("exec", { name: "m1", command: "echo out; echo err >&2; exit 7" });
      expect(r).toMatchObject({ exitCode: 7, stdout: "out\n", stderr: "err\n", stdoutTruncated: false, timedOut: false });
      expect((await mcp.ok("exec", { name: "m1", argv: ["cat"], stdin: "given on stdin\n" })).stdout).toBe("given on stdin\n");
      expect((await mcp.ok("exec", { name: "m1", argv: ["no-such-program"] })).exitCode).toBe(127);
      const where = await mcp.ok("exec", { name: "m1", argv: ["sh", "-c", 'echo "$(id -u) $(pwd) $X"'], env: { X: "x1" }, cwd: "/tmp", user: "root" });
      expect(where.stdout).toBe("0 /tmp x1\n");
      expect((await mcp.ok("exec", { name: "m1", argv: ["id", "-un"] })).stdout).toBe("shed\n");
    }
  });

  it("exec: output past maxOutputBytes is cut to its start and end, and says so; a timeout kills and says so", async () => {
    const r = await stdio.ok("exec", { name: "m1", command: "seq 1 100000; seq 1 10 >&2", maxOutputBytes: 1000 });
    expect(r.exitCode).toBe(0);
    expect(r.stdoutTruncated).toBe(true);
    expect(r.stdoutBytes).toBe(588_895);
    expect(r.stdout.startsWith("1\n2\n3\n")).toBe(true);
    expect(r.stdout.endsWith("99999\n100000\n")).toBe(true);
    expect(r.stdout).toMatch(/\[\.\.\. \d+ bytes left out \.\.\.\]/);
    expect(r.stdout.length).toBeLessThan(1100);
    expect(r.stderrTruncated).toBe(false);
    const slow = await stdio.ok("exec", { name: "m1", argv: ["sleep", "60"], timeoutSeconds: 1 });
    expect(slow).toMatchObject({ timedOut: true, exitCode: 137, signal: "SIGKILL" });
  });

  it("a cancelled exec is killed in the shed", async () => {
    for (const mcp of [stdio, http]) {
      await mcp.ok("exec", { name: "m1", argv: ["rm", "-f", "/tmp/long.pid"] });
      const abort = new AbortController();
      const call = mcp.call("exec", { name: "m1", command: "echo $$ > /tmp/long.pid; exec sleep 300" }, { signal: abort.signal });
      let pid = "";
      for (let i = 0; i < 200 && !pid; i++) {
        pid = (await mcp.ok("exec", { name: "m1", argv: ["sh", "-c", "cat /tmp/long.pid 2>/dev/null"] })).stdout.trim();
        if (!pid) await Bun.sleep(100);
      }
      expect(pid).toMatch(/^\d+$/);
      expect((await mcp.ok("exec", { name: "m1", argv: ["kill", "-0", pid] })).exitCode).toBe(0);
      abort.abort();
      await expect(call).rejects.toThrow();
      let alive = true;
      for (let i = 0; i < 100 && alive; i++) {
        alive = (await mcp.ok("exec", { name: "m1", argv: ["kill", "-0", pid] })).exitCode === 0;
        if (alive) await Bun.sleep(100);
      }
      expect(alive, `sleep (pid ${pid}) still runs in the shed after the cancel`).toBe(false);
    }
  });

  it("files: write, append, read as text and base64, list a directory; a missing file is a NOT_FOUND result", async () => {
    await http.ok("write_file", { name: "m1", path: "/workspace/notes/a.txt", content: "line 1\n" });
    await http.ok("write_file", { name: "m1", path: "/workspace/notes/a.txt", content: "line 2\n", append: true });
    await http.ok("write_file", { name: "m1", path: "/workspace/notes/run.sh", content: Buffer.from("#!/bin/sh\necho hi\n").toString("base64"), encoding: "base64", mode: "755" });
    expect(await http.ok("read_file", { name: "m1", path: "/workspace/notes/a.txt" })).toMatchObject({ content: "line 1\nline 2\n", size: 14, truncated: false });
    expect((await http.ok("read_file", { name: "m1", path: "/workspace/notes/a.txt", encoding: "base64", maxBytes: 6 })).content).toBe(Buffer.from("line 1").toString("base64"));
    expect((await http.ok("exec", { name: "m1", argv: ["/workspace/notes/run.sh"] })).stdout).toBe("hi\n");
    const dir = await http.ok("list_directory", { name: "m1", path: "/workspace/notes" });
    expect(dir.entries.map((e: any) => [e.name, e.type, e.size])).toEqual([
      ["a.txt", "file", 14],
      ["run.sh", "file", 18],
    ]);
    expect(dir.entries[1].mode).toBe("755");
    expect((await http.ok("list_directory", { name: "m1", path: "/workspace" })).entries.find((e: any) => e.name === "notes").type).toBe("directory");
    const missingFile = await http.call("read_file", { name: "m1", path: "/workspace/nope" });
    expect(missingFile.isError).toBe(true);
    expect(missingFile.structuredContent).toMatchObject({ code: "NOT_FOUND" });
    // The shed user's permissions hold: /etc/shadow is root's.
    const shadow = await http.call("read_file", { name: "m1", path: "/etc/shadow" });
    expect(shadow.isError).toBe(true);
    expect(errorText(shadow)).toMatch(/Permission denied/);
  });

  it("copies a directory into a shed and a file out of it (stdio: this machine's files)", async () => {
    mkdirSync(join(local, "src/sub"), { recursive: true });
    writeFileSync(join(local, "src/sub/f.txt"), "from the host\n");
    await stdio.ok("copy_into_shed", { name: "m1", localPath: join(local, "src"), shedPath: "/workspace/copied" });
    expect((await stdio.ok("read_file", { name: "m1", path: "/workspace/copied/sub/f.txt" })).content).toBe("from the host\n");
    await stdio.ok("copy_out_of_shed", { name: "m1", shedPath: "/workspace/notes/a.txt", localPath: join(local, "out.txt") });
    expect(readFileSync(join(local, "out.txt"), "utf8")).toBe("line 1\nline 2\n");
    const refused = await http.call("copy_into_shed", { name: "m1", localPath: "/etc", shedPath: "/tmp" });
    expect(refused.structuredContent).toMatchObject({ code: "UNSUPPORTED" });
  });

  it("lists and kills tmux sessions", async () => {
    expect((await stdio.ok("exec", { name: "m1", argv: ["tmux", "new-session", "-d", "-s", "work", "sleep 600"] })).exitCode).toBe(0);
    const listed = await stdio.ok("list_sessions", { name: "m1" });
    expect(listed.sessions.map((s: any) => s.name)).toContain("work");
    await stdio.ok("kill_session", { name: "m1", session: "work" });
    expect((await stdio.ok("list_sessions", { name: "m1" })).sessions.map((s: any) => s.name)).not.toContain("work");
    const again = await stdio.call("kill_session", { name: "m1", session: "work" });
    expect(again.structuredContent).toMatchObject({ code: "SESSION_NOT_FOUND" });
  });

  it("bad arguments and shed failures are isError results with the shed code, never protocol errors", async () => {
    const cases: [string, Record<string, unknown>, string, RegExp][] = [
      ["exec", { name: "m1", argv: ["true"], command: "true" }, "INVALID_REQUEST", /exactly one of argv/],
      ["exec", { name: "m1" }, "INVALID_REQUEST", /exactly one of argv/],
      ["exec", { name: "m1", argv: "ls" }, "INVALID_REQUEST", /argv/],
      ["exec", { name: "m1", argv: ["true"], timeoutSeconds: -1 }, "INVALID_REQUEST", /timeoutSeconds/],
      ["shed_info", { name: "Not_A_Name" }, "INVALID_REQUEST", /name: must be 1-63 lowercase/],
      ["shed_info", { name: "nope" }, "SHED_NOT_FOUND", /nope/],
      ["exec", { name: "nope", argv: ["true"] }, "SHED_NOT_FOUND", /nope/],
      ["delete_shed", { name: "m1" }, "INVALID_REQUEST", /confirm/],
      ["delete_shed", { name: "m1", confirm: true }, "SHED_NOT_STOPPED", /m1/],
      ["read_file", { name: "m1", path: "relative/path" }, "INVALID_REQUEST", /absolute/],
      ["create_shed", { name: "m1" }, "SHED_EXISTS", /m1/],
      ["create_shed", { name: "x", memoryMb: 1 }, "INVALID_REQUEST", /memoryMb: must be at least 64 MB/],
      ["no_such_tool", {}, "NOT_FOUND", /no tool named/],
    ];
    for (const mcp of [stdio, http]) {
      for (const [tool, args, code, message] of cases) {
        const r = await mcp.call(tool, args);
        expect(r.isError, `${tool} ${JSON.stringify(args)}`).toBe(true);
        expect(r.structuredContent, `${tool} ${JSON.stringify(args)}`).toMatchObject({ code });
        expect(errorText(r)).toMatch(message);
      }
    }
    // Nothing was deleted by the refused calls.
    expect((await stdio.ok("shed_info", { name: "m1" })).state).toBe("running");
  });

  it("20 concurrent tool calls, over each transport", async () => {
    for (const mcp of [stdio, http]) {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 4 === 3 ? mcp.ok("list_sheds") : mcp.ok("exec", { name: "m1", argv: ["sh", "-c", `sleep 0.2; echo ${i}`] }))),
      );
      results.forEach((r, i) => {
        if (i % 4 === 3) expect(r.sheds.map((s: any) => s.name)).toContain("m1");
        else expect(r.stdout).toBe(`${i}\n`);
      });
    }
  });

  it("resources: each shed's info, provisioning logs and console", async () => {
    const { resources } = await http.client.listResources();
    expect(resources.map((r) => r.uri)).toEqual(expect.arrayContaining(["shed://sheds/m1", "shed://sheds/m1/provisioning", "shed://sheds/m1/console"]));
    const templates = (await http.client.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate);
    expect(templates).toEqual(["shed://sheds/{name}", "shed://sheds/{name}/provisioning", "shed://sheds/{name}/console"]);
    const info = await stdio.client.readResource({ uri: "shed://sheds/m1" });
    expect(JSON.parse((info.contents[0] as { text: string }).text)).toMatchObject({ name: "m1", state: "running", backend: "docker" });
    // A provisioning log as the provisioner writes it (/var/log/shed/<step>.log).
    await stdio.ok("exec", { name: "m1", user: "root", command: "mkdir -p /var/log/shed && echo 'clone: fatal: repository not found' > /var/log/shed/clone.log" });
    const prov = (await stdio.client.readResource({ uri: "shed://sheds/m1/provisioning" })).contents[0] as { text: string };
    expect(prov.text).toContain("no warnings from the create");
    expect(prov.text).toContain("== /var/log/shed/clone.log\nclone: fatal: repository not found");
    const consoleText = (await stdio.client.readResource({ uri: "shed://sheds/m1/console" })).contents[0] as { text: string };
    expect(typeof consoleText.text).toBe("string");
    await expect(stdio.client.readResource({ uri: "shed://sheds/nope" })).rejects.toThrow(/SHED_NOT_FOUND/);
  });

  it("the lifecycle: create (with progress notifications), stop, start, delete (confirm)", async () => {
    const progress: string[] = [];
    const created = await http.call("create_shed", { name: "m2", env: { FROM_MCP: "yes" } }, { onprogress: (p) => progress.push(p.message ?? "") });
    expect(created.isError, errorText(created)).toBeFalsy();
    expect(created.structuredContent).toMatchObject({ name: "m2", state: "running", envNames: ["FROM_MCP"] });
    expect(progress.length).toBeGreaterThan(0);
    expect((await http.ok("exec", { name: "m2", command: "echo $FROM_MCP" })).stdout).toBe("yes\n");
    expect((await http.ok("stop_shed", { name: "m2", timeoutSeconds: 2 })).state).toBe("stopped");
    expect((await http.call("exec", { name: "m2", argv: ["true"] })).structuredContent).toMatchObject({ code: "SHED_NOT_RUNNING" });
    expect((await http.ok("start_shed", { name: "m2" })).state).toBe("running");
    // The kept agent connection died with the stop: the next exec opens a new one.
    expect((await http.ok("exec", { name: "m2", argv: ["echo", "back"] })).stdout).toBe("back\n");
    expect(await http.ok("delete_shed", { name: "m2", confirm: true, force: true })).toEqual({ name: "m2", deleted: true });
    expect((await http.ok("list_sheds")).sheds.map((s: any) => s.name)).toEqual(["m1"]);
  });

  it("snapshots: stop a shed, snapshot it (stdio), spawn from it with create_shed (Streamable HTTP), list, info, delete (confirm)", async () => {
    expect((await stdio.ok("create_shed", { name: "snap-src" })).state).toBe("running");
    await stdio.ok("write_file", { name: "snap-src", path: "/workspace/state.txt", content: "captured\n" });
    const running = await stdio.call("create_snapshot", { shed: "snap-src", name: "snap1" });
    expect(running.structuredContent).toMatchObject({ code: "SHED_NOT_STOPPED" });
    expect((await stdio.ok("stop_shed", { name: "snap-src", timeoutSeconds: 2 })).state).toBe("stopped");
    const snap = await stdio.ok("create_snapshot", { shed: "snap-src", name: "snap1", comment: "from MCP" });
    expect(snap).toMatchObject({ name: "snap1", backend: "docker", sourceShed: "snap-src", comment: "from MCP", imagePresent: true });
    expect((await stdio.call("create_snapshot", { shed: "snap-src", name: "snap1" })).structuredContent).toMatchObject({ code: "SNAPSHOT_EXISTS" });

    expect((await http.ok("list_snapshots")).snapshots.map((s: any) => s.name)).toEqual(["snap1"]);
    expect(await http.ok("snapshot_info", { name: "snap1" })).toMatchObject({ name: "snap1", sourceShed: "snap-src" });
    const spawned = await http.call("create_shed", { name: "snap-kid", fromSnapshot: "snap1" });
    expect(spawned.isError, errorText(spawned)).toBeFalsy();
    expect(spawned.structuredContent).toMatchObject({ name: "snap-kid", state: "running", fromSnapshot: "snap1" });
    expect((await http.ok("read_file", { name: "snap-kid", path: "/workspace/state.txt" })).content).toBe("captured\n");
    expect((await http.call("create_shed", { name: "snap-x", fromSnapshot: "nope" })).structuredContent).toMatchObject({ code: "SNAPSHOT_NOT_FOUND" });

    expect((await http.call("delete_snapshot", { name: "snap1" })).structuredContent).toMatchObject({ code: "INVALID_REQUEST" });
    expect(await http.ok("delete_snapshot", { name: "snap1", confirm: true })).toEqual({ name: "snap1", deleted: true });
    expect((await stdio.ok("list_snapshots")).snapshots).toEqual([]);
    expect((await stdio.call("snapshot_info", { name: "snap1" })).structuredContent).toMatchObject({ code: "SNAPSHOT_NOT_FOUND" });
    // The spawned shed keeps its own copy.
    expect((await stdio.ok("read_file", { name: "snap-kid", path: "/workspace/state.txt" })).content).toBe("captured\n");
    for (const name of ["snap-kid", "snap-src"]) await stdio.ok("delete_shed", { name, confirm: true, force: true });
  });

  it("/api/mcp refuses a request that is not in a session, and one from a web page", async () => {
    const stray = await fetch(`${server.url}/api/mcp`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }) });
    expect(stray.status).toBe(400);
    expect(((await stray.json()) as { code: string }).code).toBe("INVALID_REQUEST");
    const gone = await fetch(`${server.url}/api/mcp`, { method: "POST", headers: { "content-type": "application/json", "mcp-session-id": "nope" }, body: "{}" });
    expect(gone.status).toBe(404);
    const page = await fetch(`${server.url}/api/mcp`, { method: "POST", headers: { origin: "http://evil.example", "content-type": "application/json" }, body: "{}" });
    expect(page.status).toBe(403);
  });
});
