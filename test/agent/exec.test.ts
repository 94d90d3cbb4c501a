import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanupDocker, DIST, ensureTestImage, missing, namePrefix, runId, sh, startServer, type TestServer } from "../harness/index.ts";

const skip = missing({ docker: true, commands: ["tmux", "sha256sum"] });

/** Waits until the tmux pane shows `pattern` (a bounded poll: tmux has no "wait for text"). */
async function paneShows(session: string, pattern: RegExp, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let pane = "";
  while (Date.now() < deadline) {
    pane = sh(`tmux capture-pane -p -t ${session}`);
    if (pattern.test(pane)) return pane;
    await Bun.sleep(100);
  }
  throw new Error(`tmux pane never showed ${pattern}:\n${pane}`);
}

describe.skipIf(skip)("shed exec end to end (compiled binaries, Docker shed)", () => {
  let server: TestServer;
  let shedCmd: string;
  const tmp = mkdtempSync(join(tmpdir(), "shed-exec-"));

  beforeAll(async () => {
    const debian = await ensureTestImage("debian");
    const busybox = await ensureTestImage("busybox");
    server = await startServer({ config: { docker: { default_image: debian, image_aliases: { tiny: busybox } } } });
    shedCmd = `SHED_CONFIG_DIR=${server.configDir} ${join(DIST, "shed")}`;
    expect((await server.shed(["create", "ex"])).code).toBe(0);
  });
  afterAll(async () => {
    sh(`tmux kill-session -t shedt-${runId} 2>/dev/null || true`);
    await server?.stop();
    cleanupDocker();
    rmSync(tmp, { recursive: true, force: true });
  });

  it("passes the remote exit code through, a signal death as 128+N", async () => {
    for (const [cmd, code] of [["true", 0], ["false", 1], ["exit 7", 7], ["kill -INT $$", 130], ["kill -KILL $$", 137]] as const) {
      const r = await server.shed(["exec", "ex", "--", "sh", "-c", cmd]);
      expect([cmd, r.code]).toEqual([cmd, code]);
    }
  });

  it("keeps argv exact and stdout apart from stderr", async () => {
    const args = ["a b", "", "q\"uo'te", "ünï ✓", "$HOME", "*", "--", "-e", "\\n"];
    const r = await server.shed(["exec", "ex", "--", "printf", "[%s]\\n", ...args]);
    expect(r.stdout).toBe(args.map((a) => `[${a}]\n`).join(""));
    const both = await server.shed(["exec", "ex", "--", "sh", "-c", "echo to-out; echo to-err >&2"]);
    expect([both.stdout, both.stderr]).toEqual(["to-out\n", "to-err\n"]);
  });

  it("streams 200 MB of stdin through, checksums equal", async () => {
    const file = join(tmp, "200m");
    sh(`head -c 200000000 /dev/urandom > ${file}`);
    const local = sh(`sha256sum < ${file}`).split(" ")[0];
    const remote = sh(`${shedCmd} exec ex -- sha256sum < ${file}`).split(" ")[0];
    expect(remote).toBe(local);
    // The README's example: a directory as a tar stream into the shed.
    sh(`mkdir -p ${tmp}/tree/sub && echo hi > ${tmp}/tree/sub/f && tar c -C ${tmp}/tree . | ${shedCmd} exec ex -- sh -c 'mkdir -p /workspace/t && tar x -C /workspace/t'`);
    expect((await server.shed(["exec", "ex", "--", "cat", "/workspace/t/sub/f"])).stdout).toBe("hi\n");
  });

  it("runs 50 execs at once", async () => {
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => server.shed(["exec", "ex", "--", "echo", `n${i}`])));
    expect(results.map((r) => `${r.code}:${r.stdout.trim()}`)).toEqual(Array.from({ length: 50 }, (_, i) => `0:n${i}`));
  });

  it("-u, -w and -e reach the command", async () => {
    const r = await server.shed(["exec", "ex", "-u", "root", "-w", "/tmp", "-e", "GREETING=hi there", "--", "sh", "-c", 'echo "$(id -u) $PWD $GREETING"']);
    expect(r.stdout).toBe("0 /tmp hi there\n");
    expect((await server.shed(["exec", "ex", "--", "id", "-un"])).stdout).toBe("shed\n");
  });

  it("gives a terminal: size, resize and Ctrl-C, driven through tmux", async () => {
    const session = `shedt-${runId}`;
    sh(`tmux new-session -d -s ${session} -x 120 -y 40 "bash --norc"`);
    sh(`tmux send-keys -t ${session} '${shedCmd} exec ex -- bash --norc; echo EXITED=$?' Enter`);
    sh(`tmux send-keys -t ${session} 'stty size' Enter`);
    await paneShows(session, /^40 120$/m);
    sh(`tmux resize-window -t ${session} -x 100 -y 30`);
    await Bun.sleep(300);
    sh(`tmux send-keys -t ${session} 'clear; stty size' Enter`);
    await paneShows(session, /^30 100$/m);
    sh(`tmux send-keys -t ${session} 'sleep 300; echo SLEPT' Enter`);
    await Bun.sleep(500);
    sh(`tmux send-keys -t ${session} C-c`);
    sh(`tmux send-keys -t ${session} 'echo after-interrupt' Enter`);
    const pane = await paneShows(session, /^after-interrupt$/m);
    expect(pane).not.toMatch(/^SLEPT$/m);
    sh(`tmux send-keys -t ${session} 'exit 3' Enter`);
    await paneShows(session, /EXITED=3/);
  });

  it("says when the shed is stopped (409), and --start starts it", async () => {
    await server.shedJson(["create", "sleepy"]);
    await server.shedJson(["stop", "sleepy"]);
    const refused = await server.shedJson(["exec", "sleepy", "--", "true"]);
    expect(refused.error.code).toBe("SHED_NOT_RUNNING");
    const r = await server.shed(["exec", "sleepy", "--start", "--", "echo", "up"]);
    expect([r.code, r.stdout]).toEqual([0, "up\n"]);
    expect((await server.shedJson(["exec", "nope", "--", "true"])).error.code).toBe("SHED_NOT_FOUND");
  });

  it("works in a busybox-only image (no glibc, no bash)", async () => {
    expect((await server.shed(["create", "tiny", "--image", "tiny"])).code).toBe(0);
    const r = await server.shed(["exec", "tiny", "--", "sh", "-c", "echo $0; id -u; ls /lib/libc.so.6 2>&1 | head -1"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^sh\n1000\n.*No such file/);
  });

  it("an agent killed inside the shed: a clear error, the shed unhealthy, no hang", async () => {
    await server.shedJson(["create", "victim"]);
    const ctr = `${namePrefix}victim`;
    // Keep the engine from restarting it, so the failure stays visible.
    sh(`docker update --restart=no ${ctr} >/dev/null`);
    expect((await server.shed(["exec", "victim", "--", "true"])).code).toBe(0);
    sh(`docker exec ${ctr} sh -c 'kill -9 $(pidof ld-linux-x86-64.so.2 || pgrep -f shed-agent)'`);
    await Bun.sleep(500);
    const r = await server.shedJson(["exec", "victim", "--", "true"], { timeoutMs: 60_000 });
    expect(r.error.code).toBe("AGENT_UNAVAILABLE");
    expect(r.error.message).toMatch(/agent/);
    expect((await server.shedJson(["info", "victim"])).healthy).toBe(false);
  });
});
