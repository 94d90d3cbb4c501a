import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanupDocker, ensureTestImage, missing, sh, startServer, type TestServer } from "../harness/index.ts";
import { type OpenSshOptions, opensshArgs } from "../harness/openssh.ts";
import { readForwardedPort } from "../harness/tcp.ts";

const skip = missing({ docker: true, commands: ["ssh", "sftp", "scp", "ssh-keygen", "tmux"] });

/**
 * The SSH door with the real OpenSSH clients against a Docker shed (compiled binaries):
 * exec, an interactive shell through tmux, sftp/scp, `ssh -L`, algorithm policy, key policy,
 * and a crowd of unauthenticated connections that must not lock a real user out.
 */
describe.skipIf(skip)("SSH door (OpenSSH clients, real Docker shed)", () => {
  let server: TestServer;
  let dir: string;
  let key: string;

  const base = (o: Partial<OpenSshOptions> = {}) =>
    opensshArgs({ port: server.sshPort, key, knownHosts: join(dir, "known_hosts"), options: ["ConnectTimeout=20"], ...o });
  const ssh = async (args: string[], stdin?: string) => {
    const p = Bun.spawn(["ssh", ...base(), ...args], { stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin), stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    return { stdout, stderr, code };
  };

  beforeAll(async () => {
    const image = await ensureTestImage("debian");
    dir = mkdtempSync(join(tmpdir(), "shed-ssh-"));
    key = join(dir, "id_ed25519");
    sh(`ssh-keygen -q -t ed25519 -N '' -f ${key}`);
    sh(`ssh-keygen -q -t ed25519 -N '' -f ${join(dir, "stranger")}`);
    writeFileSync(join(dir, "authorized_keys"), await Bun.file(`${key}.pub`).text());
    server = await startServer({
      config: { docker: { default_image: image }, ssh: { auth: "enforce", authorized_keys: [join(dir, "authorized_keys")], login_grace_seconds: 20 } },
    });
    const { key: hostKey } = (await (await fetch(`${server.url}/api/ssh-host-key`)).json()) as { key: string };
    writeFileSync(join(dir, "known_hosts"), `[127.0.0.1]:${server.sshPort} ${hostKey}\n`);
    const created = await server.shed(["create", "door"]);
    if (created.code !== 0) throw new Error(created.stderr);
  });
  afterAll(async () => {
    await server?.stop();
    cleanupDocker();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("exec: stdout, stderr and the exit code exactly; stdin streams", async () => {
    const r = await ssh(["door@127.0.0.1", "echo out; echo err >&2; exit 7"]);
    expect(r.code).toBe(7);
    expect(r.stdout).toBe("out\n");
    expect(r.stderr).toContain("err\n");
    const who = await ssh(["door@127.0.0.1", "id -un; hostname"]);
    expect(who.stdout.split("\n")[0]).toBe("shed");
    const cat = await ssh(["door@127.0.0.1", "wc -c"], "x".repeat(100_000));
    expect(cat.stdout.trim()).toBe("100000");
  });

  it("an unknown shed gets one clear line and a non-zero exit", async () => {
    const r = await ssh(["nosuch@127.0.0.1", "true"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/shed: .*nosuch.*not found/);
  });

  it("an interactive shell with a PTY, driven through tmux", async () => {
    const session = `shed-ssh-${process.pid}`;
    const cmd = ["ssh", "-tt", ...base(), "door@127.0.0.1"].map((a) => `'${a}'`).join(" ");
    sh(`tmux new-session -d -s ${session} -x 100 -y 30 ${JSON.stringify(cmd)}`);
    try {
      const pane = async (want: RegExp) => {
        for (let i = 0; i < 100; i++) {
          const text = sh(`tmux capture-pane -p -t ${session}`, { allowFail: true });
          if (want.test(text)) return text;
          await Bun.sleep(200);
        }
        throw new Error(`pane never showed ${want}: ${sh(`tmux capture-pane -p -t ${session}`, { allowFail: true })}`);
      };
      await pane(/\$ ?$/m);
      sh(`tmux send-keys -t ${session} 'echo tty=$(tty) cols=$(tput cols) $((6*7))' Enter`);
      const text = await pane(/tty=\/dev\/pts\/\d+ cols=100 42/);
      expect(text).toContain("42");
      sh(`tmux send-keys -t ${session} 'exit' Enter`);
    } finally {
      sh(`tmux kill-session -t ${session}`, { allowFail: true });
    }
  });

  it("sftp put/get of 50 MB and scp keep every byte", async () => {
    const src = join(dir, "big.bin");
    sh(`head -c ${50 * 1024 * 1024} /dev/urandom > ${src}`);
    const sum = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");
    const batch = join(dir, "batch");
    writeFileSync(batch, `put ${src} /tmp/big.bin\nget /tmp/big.bin ${join(dir, "back.bin")}\n`);
    const sftp = Bun.spawnSync(["sftp", ...base({ portFlag: "-P" }), "-b", batch, "door@127.0.0.1"], { stdout: "pipe", stderr: "pipe" });
    expect(sftp.exitCode, sftp.stderr.toString()).toBe(0);
    expect(sum(join(dir, "back.bin"))).toBe(sum(src));
    const inShed = await ssh(["door@127.0.0.1", "sha256sum /tmp/big.bin"]);
    expect(inShed.stdout.split(" ")[0]).toBe(sum(src));

    const scp = Bun.spawnSync(["scp", ...base({ portFlag: "-P" }), src, "door@127.0.0.1:/tmp/scp.bin"], { stdout: "pipe", stderr: "pipe" });
    expect(scp.exitCode, scp.stderr.toString()).toBe(0);
    expect((await ssh(["door@127.0.0.1", "sha256sum /tmp/scp.bin"])).stdout.split(" ")[0]).toBe(sum(src));
  });

  it("ssh -L reaches a server listening inside the shed", async () => {
    await ssh(["door@127.0.0.1", "nohup sh -c 'while true; do echo hello-from-shed | nc -l -p 9000 -q 1; done' >/dev/null 2>&1 &"]);
    const local = 20000 + Math.floor(Math.random() * 20000);
    const fwd = Bun.spawn(["ssh", ...base(), "-N", "-o", "ExitOnForwardFailure=yes", "-L", `${local}:127.0.0.1:9000`, "door@127.0.0.1"], { stderr: "pipe" });
    try {
      expect(await readForwardedPort(local, (t) => t.includes("hello-from-shed"))).toContain("hello-from-shed");
    } finally {
      fwd.kill();
      await ssh(["door@127.0.0.1", "pkill -f 'nc -l -p 9000'; pkill -f 'while true'; true"]);
    }
  });

  it("ssh -A: SSH_AUTH_SOCK in the shed reaches the user's own agent, and the key stays outside", async () => {
    const sock = join(dir, "agent.sock");
    const agentProc = Bun.spawn(["ssh-agent", "-D", "-a", sock], { stdout: "ignore", stderr: "ignore" });
    try {
      for (let i = 0; i < 50 && !existsSync(sock); i++) await Bun.sleep(50);
      const add = Bun.spawnSync(["ssh-add", key], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stderr: "pipe" });
      expect(add.exitCode, add.stderr.toString()).toBe(0);
      const p = Bun.spawn(["ssh", ...base(), "-A", "door@127.0.0.1", 'echo "sock=$SSH_AUTH_SOCK"; ssh-add -l'], {
        env: { ...process.env, SSH_AUTH_SOCK: sock },
        stdout: "pipe",
        stderr: "pipe",
      });
      const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
      expect(code, err).toBe(0);
      expect(out).toMatch(/sock=\/tmp\/shed-ssh-[0-9a-f]+\/agent\.sock/);
      const fingerprint = sh(`ssh-keygen -lf ${key}.pub`).split(" ")[1]!;
      expect(out).toContain(fingerprint);
      // Without -A there is no socket.
      const plain = await ssh(["door@127.0.0.1", 'echo "sock=$SSH_AUTH_SOCK"']);
      expect(plain.stdout).toBe("sock=\n");
    } finally {
      agentProc.kill();
    }
  });

  it("refuses weak algorithms and unknown keys", async () => {
    for (const opt of ["KexAlgorithms=diffie-hellman-group1-sha1", "Ciphers=aes128-cbc", "HostKeyAlgorithms=ssh-rsa"]) {
      const r = await ssh(["-o", opt, "door@127.0.0.1", "true"]);
      expect(r.code, opt).toBe(255);
    }
    // An AEAD cipher needs no MAC, so the MAC policy shows with a CTR cipher.
    const mac = await ssh(["-o", "Ciphers=aes128-ctr", "-o", "MACs=hmac-sha1", "door@127.0.0.1", "true"]);
    expect(mac.code).toBe(255);
    const onlyStranger = Bun.spawnSync(
      ["ssh", ...base({ key: join(dir, "stranger") }), "door@127.0.0.1", "true"],
      { stdout: "pipe", stderr: "pipe" },
    );
    expect(onlyStranger.exitCode).toBe(255);
    expect(onlyStranger.stderr.toString()).toContain("Permission denied");
  });

  it.skipIf(!Bun.which("ssh-audit"))("ssh-audit finds no weak algorithm", () => {
    const r = Bun.spawnSync(["ssh-audit", "-n", "-p", String(server.sshPort), "127.0.0.1"], { stdout: "pipe", stderr: "pipe" });
    const out = r.stdout.toString();
    expect(out).toContain("curve25519");
    // Older ssh-audit releases do not know strict KEX (the Terrapin fix) and flag it as unknown.
    const findings = out.split("\n").filter((l) => /\[fail\]|\[warn\]/.test(l) && !l.includes("kex-strict-s-v00@openssh.com"));
    expect(findings, out).toEqual([]);
  });

  it("50 connections that never authenticate do not lock out a real user", async () => {
    const idle = Array.from({ length: 50 }, () => connect(server.sshPort, "127.0.0.1"));
    try {
      await Bun.sleep(500);
      const r = await ssh(["door@127.0.0.1", "echo still-here"]);
      expect(r.stdout).toBe("still-here\n");
    } finally {
      for (const s of idle) s.destroy();
    }
  });
});
