import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tar from "tar";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentConnection, ExecProcess } from "../../src/agent/protocol/api.ts";

export interface SuiteTarget {
  connect(): Promise<AgentConnection>;
  cleanup(): Promise<void> | void;
  /**
   * A TCP echo server (answers `echo:<what it got>`) where the agent's TCP connections go:
   * on this host for an agent running here (the default), inside the guest otherwise.
   */
  echoServer?(): Promise<{ host: string; port: number; stop(): Promise<void> | void }>;
}

/** The echo server of an agent that runs on this host. */
function localEchoServer(): { host: string; port: number; stop(): void } {
  const server = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: { data: (s, d) => void s.write(`echo:${d.toString()}`) },
  });
  return { host: "127.0.0.1", port: server.port, stop: () => server.stop(true) };
}

const text = (s: ReadableStream<Uint8Array>) => new Response(s).text();

async function run(conn: AgentConnection, argv: string[], stdin?: Uint8Array) {
  const p = await conn.exec({ argv });
  const w = p.stdin.getWriter();
  if (stdin) await w.write(stdin);
  await w.close();
  const [stdout, stderr, exit] = await Promise.all([text(p.stdout), text(p.stderr), p.exit]);
  return { stdout, stderr, ...exit };
}

/** Reads until `pattern` shows up in what a PTY printed so far. */
async function until(reader: { read(): Promise<{ value?: Uint8Array; done: boolean }> }, seen: { text: string }, pattern: RegExp) {
  while (!pattern.test(seen.text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`stream ended before ${pattern}: ${JSON.stringify(seen.text)}`);
    seen.text += new TextDecoder().decode(value);
  }
}

/** The one protocol suite every transport runs: same requests, same answers. */
/**
 * `makeTarget` gets the suite's scratch dir, which the agent must see at the same path.
 * `skip`: why this transport cannot run here (printed by the caller), or undefined.
 */
export function protocolSuite(name: string, makeTarget: (dir: string) => Promise<SuiteTarget>, skip?: string) {
  describe.skipIf(skip)(`agent protocol over ${name}`, () => {
    let target: SuiteTarget;
    let conn: AgentConnection;
    const dir = mkdtempSync(join(tmpdir(), "shed-proto-"));
    beforeAll(async () => {
      target = await makeTarget(dir);
      conn = await target.connect();
    });
    afterAll(async () => {
      conn?.close();
      await target?.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    it("hello says who answers; health is ok", async () => {
      expect(conn.info.protocol).toBe(1);
      expect(conn.info.version).toMatch(/\d+\.\d+/);
      expect(conn.info.hostname.length).toBeGreaterThan(0);
      const h = await conn.health();
      expect(h.ok).toBe(true);
    });

    it("argv arrives exactly; stdout and stderr stay apart; exit codes and signals", async () => {
      const args = ["a b", "", "q\"uo'te", "ünïcode ✓", "$HOME", "*", "--", "-n"];
      const r = await run(conn, ["printf", "[%s]\\n", ...args]);
      expect(r.stdout).toBe(args.map((a) => `[${a}]\n`).join(""));
      const both = await run(conn, ["sh", "-c", "echo out; echo err >&2; exit 7"]);
      expect(both).toMatchObject({ stdout: "out\n", stderr: "err\n", code: 7 });
      expect((await run(conn, ["false"])).code).toBe(1);
      expect(await run(conn, ["sh", "-c", "kill -INT $$"])).toMatchObject({ code: 130, signal: "SIGINT" });
      const missing = await run(conn, ["no-such-program-here"]);
      expect(missing.code).toBe(127);
      expect(missing.stderr).toContain("no-such-program-here");
    });

    it("stdin streams through with its bytes intact (8 MiB, checksummed)", async () => {
      const data = new Uint8Array(8 * 1024 * 1024);
      for (let i = 0; i < data.length; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
      const r = await run(conn, ["sha256sum"], data);
      expect(r.stdout.split(" ")[0]).toBe(createHash("sha256").update(data).digest("hex"));
    });

    it("a signal reaches the process", async () => {
      const p = await conn.exec({ argv: ["sleep", "30"] });
      p.signal("SIGTERM");
      expect(await p.exit).toEqual({ code: 143, signal: "SIGTERM" });
    });

    it("a PTY has the asked size, follows a resize and gets ^C as SIGINT", async () => {
      const p: ExecProcess = await conn.exec({
        argv: ["sh", "-c", "stty size; read x; stty size; sleep 30"],
        tty: { rows: 31, cols: 97 },
      });
      const reader = p.stdout.getReader();
      const seen = { text: "" };
      await until(reader, seen, /31 97/);
      p.resize(40, 120);
      const w = p.stdin.getWriter();
      await w.write(new TextEncoder().encode("\n"));
      await until(reader, seen, /40 120/);
      await w.write(new Uint8Array([3]));
      expect((await p.exit).code).toBe(130);
    });

    it("files go in and come out as tar streams", async () => {
      const src = join(dir, "src");
      mkdirSync(join(src, "sub"), { recursive: true });
      writeFileSync(join(src, "a.txt"), "alpha\n");
      writeFileSync(join(src, "sub", "b.bin"), new Uint8Array([0, 1, 2, 255]));
      const packed = tar.c({ cwd: src }, ["."]) as unknown as AsyncIterable<Uint8Array>;
      const body = new Response(
        new ReadableStream({
          async start(c) {
            for await (const chunk of packed) c.enqueue(chunk);
            c.close();
          },
        }),
      ).body!;
      await conn.putArchive(join(dir, "dst"), body, { user: "root" });
      expect(readFileSync(join(dir, "dst", "a.txt"), "utf8")).toBe("alpha\n");
      const back = await conn.getArchive(join(dir, "dst", "sub"));
      const bytes = new Uint8Array(await new Response(back).arrayBuffer());
      mkdirSync(join(dir, "out"));
      writeFileSync(join(dir, "out.tar"), bytes);
      await tar.x({ file: join(dir, "out.tar"), cwd: join(dir, "out") });
      expect([...readFileSync(join(dir, "out", "sub", "b.bin"))]).toEqual([0, 1, 2, 255]);
      await expect(conn.getArchive(join(dir, "nope"))).rejects.toMatchObject({ code: "NOT_FOUND" });
    });

    it("a TCP connection reaches a port in the guest", async () => {
      const server = await (target.echoServer?.() ?? localEchoServer());
      try {
        const tcp = await conn.connectTcp(server.port, server.host);
        const w = tcp.writable.getWriter();
        await w.write(new TextEncoder().encode("ping"));
        const reader = tcp.readable.getReader();
        const { value } = await reader.read();
        expect(new TextDecoder().decode(value)).toBe("echo:ping");
        await w.close();
      } finally {
        await server.stop();
      }
      await expect(conn.connectTcp(1, "127.0.0.1")).rejects.toMatchObject({ code: "CONNECTION_REFUSED" });
    });

    it("a unix socket listened on in the guest hands each connection to an accept, and goes with its listen", async () => {
      const path = join(dir, `listen-${Math.random().toString(36).slice(2)}`, "agent.sock");
      const user = process.getuid?.() === 0 ? "root" : String(process.getuid?.());
      const listener = await conn.listenUnix(path, { user });
      expect((statSync(path).mode & 0o777).toString(8)).toBe("600");
      const client = Bun.connect({ unix: path, socket: { data: (_s, d) => void got.push(d.toString()) } });
      const got: string[] = [];
      const accepted = await conn.acceptUnix(path);
      (await client).write("hello");
      const reader = accepted.readable.getReader();
      expect(new TextDecoder().decode((await reader.read()).value)).toBe("hello");
      const w = accepted.writable.getWriter();
      await w.write(new TextEncoder().encode("back"));
      for (let i = 0; i < 50 && got.length === 0; i++) await Bun.sleep(20);
      expect(got.join("")).toBe("back");
      (await client).end();
      listener.close();
      for (let i = 0; i < 50 && existsSync(path); i++) await Bun.sleep(20);
      expect(existsSync(path)).toBe(false);
      await expect(conn.acceptUnix(path)).rejects.toMatchObject({ code: "CONNECTION_REFUSED" });
    });

    it("20 execs at once on one connection each get their own answer", async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => run(conn, ["sh", "-c", `sleep 0.$((RANDOM % 3)); echo ${i}`])),
      );
      expect(results.map((r) => r.stdout.trim())).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
    });

    it("a bad request fails alone", async () => {
      await expect(conn.exec({ argv: ["true"], command: "true" })).rejects.toMatchObject({ code: "INVALID_REQUEST" });
      expect((await run(conn, ["true"])).code).toBe(0);
    });
  });
}
