import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanupDocker, DIST, ensureTestImage, missing, sh, startServer, type TestServer } from "../harness/index.ts";

const skip = missing({ docker: true, commands: ["ssh", "ssh-keygen", "tmux"] });

/** A threaded TCP server in the shed (python3-minimal has no socketserver): answers `echo:<what it got>`. */
const ECHO_SERVER = `import socket,_thread
s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind(("127.0.0.1",9100));s.listen(512)
def h(c):
  d=c.recv(100);c.sendall(b"echo:"+d);c.close()
while True:
  c,_=s.accept();_thread.start_new_thread(h,(c,))
`;

/**
 * The CLI's SSH-side commands (no system ssh involved for these): ssh, ssh-config (then used
 * by OpenSSH), attach + sessions with a session that outlives its client, and tunnels.
 */
describe.skipIf(skip)("shed ssh, ssh-config, attach, sessions, tunnels (compiled CLI, real Docker shed)", () => {
  let server: TestServer;
  let home: string;
  const env = () => ({ HOME: home, SSH_AUTH_SOCK: "" });
  const shed = (args: string[], stdin?: string) => server.shed(args, { env: env(), ...(stdin ? { stdin } : {}) });

  beforeAll(async () => {
    const image = await ensureTestImage("debian");
    home = mkdtempSync(join(tmpdir(), "shed-ssh-cli-"));
    mkdirSync(join(home, ".ssh"), { mode: 0o700 });
    sh(`ssh-keygen -q -t ed25519 -N '' -f ${join(home, ".ssh", "id_ed25519")}`);
    writeFileSync(join(home, "authorized_keys"), await Bun.file(join(home, ".ssh", "id_ed25519.pub")).text());
    server = await startServer({
      config: { docker: { default_image: image }, ssh: { auth: "enforce", authorized_keys: [join(home, "authorized_keys")] } },
    });
    const created = await server.shed(["create", "cli"]);
    if (created.code !== 0) throw new Error(created.stderr);
  });
  afterAll(async () => {
    await shed(["tunnels", "stop", "cli"]).catch(() => {});
    await server?.stop();
    cleanupDocker();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it("shed ssh runs a command through the door: output and exit code", async () => {
    const r = await shed(["ssh", "cli", "--", "echo", "via-door;", "id", "-un;", "exit", "5"]);
    expect(r.code).toBe(5);
    expect(r.stdout).toBe("via-door\nshed\n");
    // exit-signal travels exactly: a signal death reads as 128+N, as in a shell.
    expect((await shed(["ssh", "cli", "--", "kill", "-9", "$$"])).code).toBe(137);
    const bad = await shed(["ssh", "nope", "--", "true"]);
    expect(bad.code).toBe(1); // the door ends the channel with 1, as sshd would
    expect(bad.stderr).toContain("nope");
  });

  it("ssh-config entries work with OpenSSH as they are", async () => {
    const r = await shed(["ssh-config", "cli"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("Host shed-cli");
    const config = join(home, "ssh_config");
    writeFileSync(config, `${r.stdout}\n  IdentityFile ${join(home, ".ssh", "id_ed25519")}\n  BatchMode yes\n`);
    const ssh = Bun.spawnSync(["ssh", "-F", config, "shed-cli", "hostname"], { stdout: "pipe", stderr: "pipe" });
    expect(ssh.exitCode, ssh.stderr.toString()).toBe(0);
    expect(ssh.stdout.toString().trim()).toBe("cli");
  });

  it("attach: a session keeps running after its client is killed, and is listed, rejoined and killed", async () => {
    const outer = `shed-attach-${process.pid}`;
    const attach = `env HOME=${home} SSH_AUTH_SOCK= SHED_CONFIG_DIR=${server.configDir} ${join(DIST, "shed")} attach cli -S work`;
    const pane = async (want: RegExp) => {
      for (let i = 0; i < 100; i++) {
        const text = sh(`tmux capture-pane -p -t ${outer}`, { allowFail: true });
        if (want.test(text)) return text;
        await Bun.sleep(200);
      }
      throw new Error(`never saw ${want}: ${sh(`tmux capture-pane -p -t ${outer}`, { allowFail: true })}`);
    };
    sh(`tmux new-session -d -s ${outer} -x 120 -y 30 '${attach}'`);
    try {
      await pane(/\$ ?$/m);
      sh(`tmux send-keys -t ${outer} 'i=0; while true; do i=$((i+1)); echo $i > /tmp/counter; sleep 0.2; done' Enter`);
      await Bun.sleep(1000);
      sh(`tmux kill-session -t ${outer}`); // the client dies without detaching
      const read = async () => Number((await shed(["exec", "cli", "--", "cat", "/tmp/counter"])).stdout.trim());
      const first = await read();
      await Bun.sleep(1200);
      expect(await read()).toBeGreaterThan(first);

      const listed = await server.shedJson(["sessions", "cli"], { env: env() });
      expect(listed.sessions.map((s: any) => s.name)).toContain("work");
      const table = await shed(["sessions"]);
      expect(table.stdout).toMatch(/SHED\s+SESSION\s+WINDOWS\s+ATTACHED\s+CREATED\s+COMMAND/);

      sh(`tmux new-session -d -s ${outer} -x 120 -y 30 '${attach}'`);
      await pane(/while true/);
    } finally {
      sh(`tmux kill-session -t ${outer}`, { allowFail: true });
    }
    expect((await shed(["sessions", "kill", "cli", "work"])).code).toBe(0);
    expect((await server.shedJson(["sessions", "cli"], { env: env() })).sessions).toEqual([]);
    const gone = await server.shedJson(["sessions", "kill", "cli", "work"], { env: env() });
    expect(gone.error.code).toBe("SESSION_NOT_FOUND");
  });

  it("tunnels: -d runs in the background, carries 100 parallel connections, a busy port is a clear error", async () => {
    await shed(["exec", "cli", "--", "sh", "-c", `nohup python3 -c '${ECHO_SERVER}' >/dev/null 2>&1 &`]);
    await Bun.sleep(500);
    const local = 20000 + Math.floor(Math.random() * 20000);
    const started = await shed(["tunnels", "start", "cli", "-t", `${local}:9100`, "-d"]);
    expect(started.code, started.stderr).toBe(0);
    const list = await server.shedJson(["tunnels", "list"], { env: env() });
    expect(list.tunnels[0]).toMatchObject({ shed: "cli", ports: [{ local, remote: 9100 }] });

    const one = (i: number) =>
      new Promise<string>((resolve) => {
        const s = connect(local, "127.0.0.1", () => s.write(`n${i}`));
        let buf = "";
        s.on("data", (d) => (buf += d.toString()));
        s.on("close", () => resolve(buf));
        s.on("error", (e) => resolve(`error ${e.message}`));
      });
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => one(i)));
    expect(answers).toEqual(Array.from({ length: 100 }, (_, i) => `echo:n${i}`));

    const twice = await shed(["tunnels", "start", "cli", "-t", `${local + 1}:9100`]);
    expect(twice.stderr).toMatch(/already run/);
    expect((await shed(["tunnels", "stop", "cli"])).code).toBe(0);
    expect((await server.shedJson(["tunnels", "list"], { env: env() })).tunnels).toEqual([]);

    const taken = createServer().listen(local, "127.0.0.1");
    try {
      const busy = await shed(["tunnels", "start", "cli", "-t", `${local}:9100`]);
      expect(busy.code).toBe(2);
      expect(busy.stderr).toContain(`local port ${local} is already in use`);
    } finally {
      taken.close();
    }
    const again = await shed(["tunnels", "start", "cli", "-t", "notaport"]);
    expect(again.code).toBe(2);
  });
});
