import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanupDocker, ensureTestImage, missing, startServer, type TestServer } from "../harness/index.ts";

const skip = missing({ docker: true, commands: ["python3"] });

/** An HTTP-ish one-shot server in the shed on PORT: answers `port:<PORT>`. */
const serve = (port: number) =>
  `nohup python3 -c 'import socket;s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind(("127.0.0.1",${port}));s.listen(8)
while True:
  c,_=s.accept();c.recv(10);c.sendall(b"port:${port}");c.close()' >/dev/null 2>&1 &`;

function ask(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1", () => s.write("x"));
    let buf = "";
    s.on("data", (d) => (buf += d.toString()));
    s.on("close", () => resolve(buf));
    s.on("error", (e) => resolve(`error ${e.message}`));
  });
}

describe.skipIf(skip)("shed tunnels: several -t, profiles, --replace, stop --all, list -v, --auto (compiled CLI, Docker shed)", () => {
  let server: TestServer;
  let home: string;
  const base = 20000 + Math.floor(Math.random() * 20000);
  const shed = (args: string[]) => server.shed(args, { env: { HOME: home } });

  beforeAll(async () => {
    const image = await ensureTestImage("debian");
    home = mkdtempSync(join(tmpdir(), "shed-cli-tun-"));
    server = await startServer({ config: { docker: { default_image: image } } });
    if ((await shed(["create", "tun", "--no-sync"])).code !== 0) throw new Error("create failed");
    await shed(["exec", "tun", "--", "sh", "-c", `${serve(9201)}\n${serve(9202)}`]);
    await Bun.sleep(500);
  });
  afterAll(async () => {
    await shed(["tunnels", "stop", "--all"]);
    await server?.stop();
    cleanupDocker();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it("forwards every -t of one call, replaces, lists per port with -v, and stops --all", async () => {
    const started = await shed(["tunnels", "start", "tun", "-t", `${base}:9201`, "-t", `${base + 1}:9202`, "-d"]);
    expect(started.code, started.stderr).toBe(0);
    expect(await ask(base)).toBe("port:9201");
    expect(await ask(base + 1)).toBe("port:9202");
    const verbose = await shed(["tunnels", "list", "-v"]);
    expect(verbose.stdout).toMatch(new RegExp(`tun\\s+127\\.0\\.0\\.1:${base}\\s+tun:9201\\s+fixed`));
    expect(verbose.stdout).toMatch(new RegExp(`tun\\s+127\\.0\\.0\\.1:${base + 1}\\s+tun:9202\\s+fixed`));
    writeFileSync(join(server.configDir, "tunnels.yaml"), `profiles:\n  two: { ports: ["${base + 2}:9202"] }\n`);
    const again = await shed(["tunnels", "start", "tun", "-p", "two", "-d"]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("--replace");
    const replaced = await shed(["tunnels", "start", "tun", "-p", "two", "--replace", "-d"]);
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(await ask(base + 2)).toBe("port:9202");
    expect(await ask(base)).toMatch(/^error/);
    const badProfile = await shed(["tunnels", "start", "tun", "-p", "tow"]);
    expect(badProfile.stderr).toContain("did you mean two?");
    const stopped = await shed(["tunnels", "stop", "--all"]);
    expect(stopped.code).toBe(0);
    expect((await server.shedJson(["tunnels", "list"], { env: { HOME: home } })).tunnels).toEqual([]);
  });

  it("--auto forwards ports as they start listening in the shed, printed as they appear", async () => {
    const port = 9300 + Math.floor(Math.random() * 500);
    const proc = Bun.spawn([join(import.meta.dirname, "../../dist/shed"), "tunnels", "start", "tun", "--auto"], {
      env: { ...process.env, HOME: home, SHED_CONFIG_DIR: server.configDir },
      stdout: "pipe",
      stderr: "pipe",
    });
    try {
      const reader = (proc.stderr as ReadableStream<Uint8Array>).getReader();
      let seen = "";
      const waitFor = async (text: string) => {
        while (!seen.includes(text)) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`tunnels --auto ended: ${seen}`);
          seen += new TextDecoder().decode(value);
        }
      };
      await waitFor("Watching for ports");
      await shed(["exec", "tun", "--", "sh", "-c", serve(port)]);
      await waitFor(`Forwarding localhost:${port} -> tun:${port}`);
      expect(await ask(port)).toBe(`port:${port}`);
    } finally {
      proc.kill("SIGTERM");
      await proc.exited;
    }
  });
});
