import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanupDocker, DIST, ensureTestImage, missing, sh, startServer, type TestServer } from "../harness/index.ts";

const skip = missing({ docker: true, commands: ["tmux", "bash"] });

/**
 * Issue 15 and issue 14 defect 2 against a real Docker shed, from the compiled dist/shed:
 * repeated flags, the shed's own environment, strict usage errors, several names per verb,
 * console/attach without a terminal and without an SSH key, scripting output, cp, logs,
 * confirmation, restart.
 */
describe.skipIf(skip)("shed CLI verbs (compiled CLI, real Docker shed)", () => {
  let server: TestServer;
  let home: string;
  // No ~/.ssh and no ssh-agent: console, attach and exec must not need a key.
  const env = () => ({ HOME: home, SSH_AUTH_SOCK: "" });
  const shed = (args: string[], opts: { stdin?: string } = {}) => server.shed(args, { env: env(), timeoutMs: 120_000, ...opts });

  beforeAll(async () => {
    const image = await ensureTestImage("debian");
    home = mkdtempSync(join(tmpdir(), "shed-cli-verbs-"));
    server = await startServer({ config: { docker: { default_image: image } } });
    const created = await shed(["create", "v1", "-e", "SHED_A=one", "-e", "SHED_B=two words"]);
    if (created.code !== 0) throw new Error(created.stderr);
    const second = await shed(["create", "v2", "--no-sync"]);
    if (second.code !== 0) throw new Error(second.stderr);
  });
  afterAll(async () => {
    await server?.stop();
    cleanupDocker();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it("repeated -e keeps every value, and create -e is the shed's environment for every later exec", async () => {
    const r = await shed(["exec", "-e", "A=1", "-e", "B=2", "v1", "--", "sh", "-c", 'echo "A=$A B=$B"']);
    expect(r.stdout).toBe("A=1 B=2\n");
    const own = await shed(["exec", "v1", "--", "sh", "-c", 'echo "$SHED_A|$SHED_B"']);
    expect(own.stdout).toBe("one|two words\n");
    // exec's own -e wins over the shed's.
    expect((await shed(["exec", "-e", "SHED_A=mine", "v1", "--", "sh", "-c", "echo $SHED_A"])).stdout).toBe("mine\n");
    const info = await server.shedJson(["info", "v1"], { env: env() });
    expect(info.envNames).toEqual(["SHED_A", "SHED_B"]);
  });

  it("exec exits promptly on a usage error and on a server-side error (issue 14, defect 2)", async () => {
    const bad = await shed(["exec", "v1", "-e", "NOEQ", "--", "true"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('-e takes KEY=VALUE, got "NOEQ"');
    const user = await shed(["exec", "-u", "nosuchuser", "v1", "--", "true"]);
    expect(user.code).toBe(125);
    expect(user.stderr).toContain("nosuchuser");
    expect((await shed(["exec", "v1", "--", "sh", "-c", "exit 7"])).code).toBe(7);
    expect((await shed(["exec", "v1", "--", "no-such-command"])).code).toBe(127);
    // Without --, the command's own flags stay its own.
    expect((await shed(["exec", "v1", "ls", "-d", "/tmp"])).stdout).toBe("/tmp\n");
  });

  it("unknown flags, extra arguments and bad values exit 2 naming the flag and the closest one", async () => {
    const cases: [string[], RegExp][] = [
      [["list", "--bogus"], /unknown flag --bogus/],
      [["delete", "v1", "--forse"], /unknown flag --forse; did you mean --force\?/],
      [["stop", "v1", "--timeout", "abc"], /--timeout takes a number, got "abc"/],
      [["logs", "-f"], /missing NAME/],
      [["info", "v1", "v2"], /unexpected argument "v2"/],
      [["lsit"], /unknown command "lsit" for shed; did you mean list\?/],
      [["image", "lss"], /unknown command "lss" for shed image; did you mean ls\?/],
      [["create", "x", "--memory", "lots"], /--memory takes a size like 8G/],
    ];
    for (const [args, want] of cases) {
      const r = await shed(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).toMatch(want);
    }
    // Nothing was stopped or deleted by the refused commands.
    expect((await server.shedJson(["info", "v1"], { env: env() })).state).toBe("running");
  });

  it("stop, start and restart take several names and report each; a missing one fails alone with 125", async () => {
    const stop = await shed(["stop", "v1", "v2", "-t", "1"]);
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stdout).toBe("Stopped v1.\nStopped v2.\n");
    const states = await server.shedJson(["list"], { env: env() });
    expect(states.sheds.map((s: { state: string }) => s.state)).toEqual(["stopped", "stopped"]);
    const start = await shed(["start", "v2", "ghost", "v1"]);
    expect(start.code).toBe(125);
    expect(start.stdout).toBe("Started v2.\nStarted v1.\n");
    expect(start.stderr).toContain('shed "ghost" not found (SHED_NOT_FOUND)');
    const json = await shed(["--json", "restart", "v1", "ghost", "-t", "1"]);
    const doc = JSON.parse(json.stdout);
    expect(doc[0]).toMatchObject({ name: "v1", state: "running" });
    expect(doc[1]).toEqual({ name: "ghost", error: { code: "SHED_NOT_FOUND", message: 'shed "ghost" not found' } });
  });

  it("console without a terminal runs piped input and exits with its status; no SSH key needed", async () => {
    const r = await shed(["console", "v1"], { stdin: "echo in-$(hostname); id -un\nexit 3\n" });
    expect(r.stdout).toBe("in-v1\nshed\n");
    expect(r.code).toBe(3);
    expect((await shed(["console", "v1"], { stdin: "true\n" })).code).toBe(0);
  });

  it("console on a stopped shed starts it first with a line saying so; --no-start refuses", async () => {
    await shed(["stop", "v2", "-t", "1"]);
    const refused = await shed(["console", "v2", "--no-start"], { stdin: "true\n" });
    expect(refused.code).toBe(125);
    expect(refused.stderr).toContain("SHED_NOT_RUNNING");
    const r = await shed(["console", "v2"], { stdin: "echo up\n" });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("Starting v2 (it was stopped)");
    expect(r.stdout).toBe("up\n");
    const missingShed = await shed(["console", "ghost"], { stdin: "true\n" });
    expect(missingShed.code).toBe(125);
    expect(missingShed.stderr).toContain("SHED_NOT_FOUND");
  });

  it("attach without a terminal refuses clearly and leaves the session alone", async () => {
    await shed(["exec", "v1", "--", "tmux", "new-session", "-d", "-s", "keep", "sleep 600"]);
    const r = await shed(["attach", "v1", "-S", "keep"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("needs a terminal");
    const sessions = await server.shedJson(["sessions", "v1"], { env: env() });
    expect(sessions.sessions.map((s: { name: string }) => s.name)).toContain("keep");
  });

  it("attach on a terminal works over the agent socket without an SSH key", async () => {
    const outer = `shed-cli-attach-${process.pid}`;
    const cmd = `env HOME=${home} SSH_AUTH_SOCK= SHED_CONFIG_DIR=${server.configDir} ${join(DIST, "shed")} attach v1 -S work`;
    sh(`tmux new-session -d -s ${outer} -x 100 -y 30 '${cmd}'`);
    try {
      let text = "";
      for (let i = 0; i < 100 && !/\$ ?$/m.test(text); i++) {
        await Bun.sleep(200);
        text = sh(`tmux capture-pane -p -t ${outer}`, { allowFail: true });
      }
      expect(text).toMatch(/\$ ?$/m);
      // The session is there while the client is attached (asked before the client goes).
      let names: string[] = [];
      for (let i = 0; i < 100 && !names.includes("work"); i++) {
        names = (await server.shedJson(["sessions", "v1"], { env: env() })).sessions.map((s: { name: string }) => s.name);
        if (!names.includes("work")) await Bun.sleep(200);
      }
      expect(names).toContain("work");
    } finally {
      sh(`tmux kill-session -t ${outer}`, { allowFail: true });
    }
  });

  it("scripting output: -q names only, --format templates and json/yaml, one JSON document, errors as JSON on stderr", async () => {
    expect((await shed(["list", "-q"])).stdout).toBe("v1\nv2\n");
    expect((await shed(["list", "--format", "{{.name}} {{.state}}"])).stdout).toBe("v1 running\nv2 running\n");
    expect(JSON.parse((await shed(["list", "--format", "json"])).stdout).sheds).toHaveLength(2);
    expect((await shed(["list", "--format", "yaml"])).stdout).toMatch(/sheds:\n\s+- name: v1/);
    expect((await shed(["info", "v1", "--format", "{{.backend}}/{{.state}}"])).stdout).toBe("docker/running\n");
    const ok = await shed(["--json", "info", "v1"]);
    expect(ok.stdout.trim().split("\n")).toHaveLength(1);
    expect(JSON.parse(ok.stdout)).toMatchObject({ name: "v1", envNames: ["SHED_A", "SHED_B"], agentOk: true });
    expect((await shed(["info", "v1"])).stdout).toMatch(/^Env:\s+SHED_A, SHED_B$/m);
    const err = await shed(["--json", "info", "ghost"]);
    expect(err.code).toBe(125);
    expect(err.stdout).toBe("");
    expect(JSON.parse(err.stderr)).toEqual({ error: { code: "SHED_NOT_FOUND", message: 'shed "ghost" not found' } });
    const verbose = await shed(["list", "-v"]);
    expect(verbose.stdout).toMatch(/NAME\s+STATE\s+BACKEND\s+IMAGE\s+IP\s+RESOURCES\s+UPTIME\s+HEALTH\s+CREATED/);
    expect(verbose.stdout).toMatch(/v1\s+running.*\d+\.\d+\.\d+\.\d+\s+2 CPU, \d+ MB\s+\d+[smhd]\S*\s+healthy/);
  });

  it("progress goes to stderr, as JSON lines with --progress json", async () => {
    const r = await shed(["--json", "--progress", "json", "restart", "v2", "-t", "1"]);
    expect(JSON.parse(r.stdout)).toMatchObject({ name: "v2", state: "running" });
    const lines = r.stderr.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((l) => l.progress)).toBe(true);
  });

  it("cp copies both ways with modes kept, into a directory or to a new name; -a keeps owners", async () => {
    const src = join(home, "tree");
    mkdirSync(join(src, "sub"), { recursive: true });
    writeFileSync(join(src, "run.sh"), "#!/bin/sh\necho hi\n");
    chmodSync(join(src, "run.sh"), 0o751);
    writeFileSync(join(src, "sub", "data.txt"), "data\n");
    expect((await shed(["cp", src, "v1:/workspace/copied"])).code).toBe(0);
    const inside = await shed(["exec", "v1", "--", "sh", "-c", "stat -c '%a %U %n' /workspace/copied/run.sh /workspace/copied/sub/data.txt"]);
    expect(inside.stdout).toBe("751 shed /workspace/copied/run.sh\n644 shed /workspace/copied/sub/data.txt\n");
    // An existing directory as DST: SRC goes inside it under its own name.
    expect((await shed(["cp", src, "v1:/workspace/copied"])).code).toBe(0);
    expect((await shed(["exec", "v1", "--", "cat", "/workspace/copied/tree/sub/data.txt"])).stdout).toBe("data\n");
    const out = join(home, "out");
    mkdirSync(out);
    const back = await shed(["cp", "v1:/workspace/copied/run.sh", out]);
    expect(back.code, back.stderr).toBe(0);
    expect(statSync(join(out, "run.sh")).mode & 0o777).toBe(0o751);
    expect((await shed(["cp", "v1:/etc/hostname", join(out, "name")])).code).toBe(0);
    expect(readFileSync(join(out, "name"), "utf8")).toBe("v1\n");
    sh(`chown 4321:4321 ${join(src, "sub", "data.txt")}`);
    expect((await shed(["cp", "-a", src, "v1:/srv/kept"])).code).toBe(0);
    expect((await shed(["exec", "v1", "--", "stat", "-c", "%u:%g", "/srv/kept/sub/data.txt"])).stdout).toBe("4321:4321\n");
    const bad = await shed(["cp", src, join(home, "x")]);
    expect(bad.code).toBe(2);
  });

  it("logs --tail N gives the last N lines", async () => {
    await shed(["exec", "-u", "root", "v1", "--", "sh", "-c", "for i in 1 2 3 4 5; do echo line$i > /proc/1/fd/1; done"]);
    const r = await shed(["logs", "v1", "--tail", "2"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split("\n")).toEqual(["line4", "line5"]);
  });

  it("logs -f prints the last lines, then what the shed prints, as it comes, until stopped", async () => {
    await shed(["exec", "-u", "root", "v1", "--", "sh", "-c", "echo before-follow > /proc/1/fd/1"]);
    const proc = Bun.spawn(server.wrap([join(DIST, "shed"), "logs", "v1", "-f", "--tail", "1"]), { env: { ...process.env, SHED_CONFIG_DIR: server.configDir, ...env() }, stdout: "pipe", stderr: "pipe" });
    const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
    let seen = "";
    const until = async (text: string) => {
      while (!seen.includes(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`logs -f ended before "${text}": ${seen}${await new Response(proc.stderr as ReadableStream).text()}`);
        seen += new TextDecoder().decode(value);
      }
    };
    try {
      await until("before-follow\n");
      await shed(["exec", "-u", "root", "v1", "--", "sh", "-c", "echo while-following > /proc/1/fd/1"]);
      await until("while-following\n");
      // The last line before it and what came after, each once.
      expect(seen).toBe("before-follow\nwhile-following\n");
    } finally {
      proc.kill("SIGINT");
      await proc.exited;
    }
  });

  it("logs --since shows only what came after (a duration or a time); a bad value says what it takes", async () => {
    await shed(["exec", "-u", "root", "v1", "--", "sh", "-c", "echo old-line > /proc/1/fd/1"]);
    // The engine keeps whole seconds: leave one between the two lines.
    await Bun.sleep(2100);
    const between = new Date(Date.now() - 500).toISOString();
    await shed(["exec", "-u", "root", "v1", "--", "sh", "-c", "echo new-line > /proc/1/fd/1"]);
    const recent = await shed(["logs", "v1", "--since", between]);
    expect(recent.code, recent.stderr).toBe(0);
    expect(recent.stdout).toContain("new-line");
    expect(recent.stdout).not.toContain("old-line");
    const hour = await shed(["logs", "v1", "--since", "1h"]);
    expect(hour.stdout).toContain("old-line");
    const bad = await shed(["logs", "v1", "--since", "yesterday"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("a duration such as 10m");
  });

  it("delete with --json refuses without -f; -f deletes several at once", async () => {
    const refused = await shed(["--json", "delete", "v2"]);
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.stderr).error.message).toContain("-f/--force");
    expect((await server.shedJson(["info", "v2"], { env: env() })).state).toBe("running");
    await shed(["create", "v3", "--no-sync"]);
    const gone = await shed(["delete", "-f", "v2", "v3"]);
    expect(gone.code, gone.stderr).toBe(0);
    expect(gone.stdout).toBe("Deleted v2.\nDeleted v3.\n");
    expect((await shed(["list", "-q"])).stdout).toBe("v1\n");
  });
});
