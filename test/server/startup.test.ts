import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DIST, sh } from "../harness/index.ts";

/**
 * shed-server's start (issue 14, defect 5): one server per state dir by an flock the kernel
 * drops when its owner dies (a reused pid in server.pid is no owner), and fatal start-up
 * errors as ONE line (what, where, what to do) with a non-zero exit: no stack, no bundle source.
 */
const SERVER = join(DIST, "shed-server");
const root = mkdtempSync(join(tmpdir(), "shed-startup-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
function configFile(body: string): string {
  const path = join(root, `server-${++n}.yaml`);
  writeFileSync(path, body);
  return path;
}
const base = (stateDir: string) =>
  `bind_address: 127.0.0.1\nhttp_port: 0\nssh_port: 0\nstate_dir: ${stateDir}\ndefault_backend: docker\ndocker:\n  socket: /nonexistent/docker.sock\n`;

interface Started {
  pid: number;
  stop(): Promise<void>;
}

/** Runs shed-server to its end (a refused start), with a bound on how long that may take. */
async function runToEnd(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn([SERVER, ...args], { stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 60_000);
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  await proc.exited;
  clearTimeout(timer);
  return { code: proc.exitCode ?? -1, stdout, stderr };
}

/** Starts shed-server and waits for its "listening" line. */
async function start(config: string): Promise<Started> {
  const proc = Bun.spawn([SERVER, "serve", "--config", config], { stdout: "pipe", stderr: "ignore" });
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`shed-server exited (${await proc.exited}) before listening`);
    text += new TextDecoder().decode(value);
  }
  expect(text).toContain("listening");
  void (async () => {
    while (!(await reader.read()).done) {}
  })().catch(() => {});
  return {
    pid: proc.pid,
    async stop() {
      proc.kill("SIGKILL");
      await proc.exited;
    },
  };
}

/**
 * What every fatal start-up error must look like: one plain line (besides the server's JSON
 * log lines, which are for its log), short, with no stack and no source.
 */
function expectOneLine(r: { code: number; stderr: string }, ...parts: (string | RegExp)[]): void {
  expect(r.code).not.toBe(0);
  const plain = r.stderr.trim().split("\n").filter((l) => !l.startsWith('{"time"'));
  expect(plain, r.stderr.slice(0, 2000)).toHaveLength(1);
  const line = plain[0]!;
  expect(line.length).toBeLessThan(600);
  expect(r.stderr).not.toMatch(/\bat \S+ \(|\$bunfs|node_modules|=>|function\s*\(/);
  for (const p of parts) expect(line).toMatch(p);
}

describe("one server per state dir, by flock", () => {
  it("a second server on the same state dir is refused, even with server.pid removed", async () => {
    const state = join(root, "lock-state");
    const cfg = configFile(base(state));
    const first = await start(cfg);
    try {
      unlinkSync(join(state, "server.pid"));
      const second = await runToEnd(["serve", "--config", cfg]);
      expectOneLine(second, "another shed-server", state);
    } finally {
      await first.stop();
    }
  });

  it("after kill -9 a new server starts, though server.pid names a live process", async () => {
    const state = join(root, "stale-state");
    const cfg = configFile(base(state));
    const first = await start(cfg);
    await first.stop();
    // A reused pid: this test runner is alive, and it is no shed-server.
    writeFileSync(join(state, "server.pid"), `${process.pid}\n`);
    const second = await start(cfg);
    await second.stop();
  });
});

describe("fatal start-up errors are one clear line", () => {
  it("a bad value: file, line, key", async () => {
    const cfg = configFile("name: x\nhttp_port: eighty\n");
    for (const cmd of ["serve", "config-validate"]) {
      const r = await runToEnd([cmd, "--config", cfg]);
      expectOneLine(r, `${cfg}:2`, "http_port");
    }
  });

  it("an unknown key: its file and line, and the closest known key", async () => {
    const cfg = configFile("name: x\nmount_root: /srv\ndocker:\n  pid_limit: 100\n");
    for (const cmd of ["serve", "config-validate"]) {
      const r = await runToEnd([cmd, "--config", cfg]);
      expectOneLine(r, `${cfg}:2`, '"mount_root"', '"mount_roots"');
      expect(r.stderr).toContain(`${cfg}:4`);
      expect(r.stderr).toContain('"docker.pids_limit"');
    }
  });

  it("a missing config file", async () => {
    const r = await runToEnd(["serve", "--config", join(root, "nope.yaml")]);
    expectOneLine(r, "nope.yaml", "no such file");
  });

  it("a read-only state dir", async () => {
    const ro = join(root, "ro");
    mkdirSync(ro);
    sh(`mount -t tmpfs -o ro,size=1m tmpfs ${ro}`);
    try {
      const r = await runToEnd(["serve", "--config", configFile(base(join(ro, "state")))]);
      expectOneLine(r, join(ro, "state"), /read-only/i);
    } finally {
      sh(`umount ${ro}`);
    }
  });

  it("a port in use", async () => {
    const busy = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      const cfg = configFile(base(join(root, "port-state")).replace("http_port: 0", `http_port: ${busy.port}`));
      const r = await runToEnd(["serve", "--config", cfg]);
      expectOneLine(r, `127.0.0.1:${busy.port}`, /in use/);
    } finally {
      busy.stop(true);
    }
  });
});
