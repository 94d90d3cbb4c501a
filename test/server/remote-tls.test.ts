import { X509Certificate } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanupDocker, DIST, ensureTestImage, missing, runShed, startServer, type TestServer } from "../harness/index.ts";
import { makeTestNetwork, netnsMissing, type TestNetwork } from "../harness/netns.ts";
import { TOKEN } from "../../src/server/auth/tokens.ts";

const skip = netnsMissing() ?? missing({ docker: true, commands: ["openssl", "ssh-keygen", "curl"] });
if (skip) console.log(`remote TLS tests skipped: they need ${skip}`);

/**
 * Issue 20: a server beyond loopback. The "second host" is a network namespace the test
 * makes (a veth pair to another namespace where the CLI runs); each server listens on that
 * namespace's address only (192.0.2.1), never on this machine's. The CLI is the compiled
 * dist/shed with its own HOME (its SSH key) and client config.
 */
describe.skipIf(skip)("servers beyond loopback: TLS pinned over SSH, minted tokens (issue 20)", () => {
  let net: TestNetwork;
  let server: TestServer;
  let home: string;
  let keyLine: string;
  const servers: TestServer[] = [];
  /** The mtls server of the first mtls test, which the revocation test reuses. */
  let mutual: TestServer | undefined;
  const spawned: ReturnType<typeof Bun.spawn>[] = [];
  const authorizedKeys = () => join(home, "authorized_keys");
  const clientConfig = () => join(home, "client", "config.yaml");
  const env = () => ({ HOME: home, SSH_AUTH_SOCK: "", SHED_CONFIG_DIR: join(home, "client") });
  /** The CLI on the other host (the outside namespace). */
  const shed = (args: string[], timeoutMs = 120_000) => runShed(args, { netns: net.outside, env: env(), timeoutMs });
  const shedJson = async (args: string[]) => {
    const r = await shed(["--json", ...args]);
    return { ...r, doc: JSON.parse((r.stdout.trim() || r.stderr.trim()).split("\n").at(-1) || "{}") };
  };
  const outside = (argv: string[]) => Bun.spawnSync(net.outside.wrap(argv), { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const curl = (args: string[]) => {
    const r = outside(["curl", "-sS", "-m", "10", "-o", "-", "-w", "\n%{http_code}", ...args]);
    const [body, code] = [r.stdout.toString().replace(/\n\d+$/, ""), Number(r.stdout.toString().split("\n").at(-1))];
    return { exit: r.exitCode, body, code, stderr: r.stderr.toString() };
  };
  const config = () => parse(readFileSync(clientConfig(), "utf8")) as { servers: Record<string, Record<string, string | number>> };
  const start = async (auth: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    const s = await startServer({
      netns: net.host,
      config: {
        bind_address: net.hostAddr,
        https_port: 0,
        auth,
        ssh: { authorized_keys: [authorizedKeys()] },
        qemu: { network: "none" },
        ...extra,
      },
    });
    servers.push(s);
    return s;
  };
  const hostKeyFingerprint = (s: TestServer) => Bun.spawnSync(["ssh-keygen", "-lf", join(s.stateDir, "ssh_host_ed25519_key")]).stdout.toString().split(/\s+/)[1]!;
  const serverLog = (s: TestServer) => readFileSync(s.logPath, "utf8");

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), "shed-remote-"));
    Bun.spawnSync(["mkdir", "-p", join(home, ".ssh"), join(home, "client")]);
    Bun.spawnSync(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", join(home, ".ssh", "id_ed25519")]);
    keyLine = readFileSync(join(home, ".ssh", "id_ed25519.pub"), "utf8");
    writeFileSync(authorizedKeys(), keyLine);
    net = makeTestNetwork();
    const image = await ensureTestImage("debian");
    server = await start({ mode: "token" }, { docker: { default_image: image } });
  }, 300_000);

  afterAll(async () => {
    for (const p of spawned) if (p.exitCode === null) p.kill("SIGKILL");
    for (const s of servers) await s.stop();
    await net?.remove();
    cleanupDocker();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it("auth.mode open on that address refuses to start, saying why", async () => {
    const err = await start({ mode: "open" }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toContain("is not loopback");
    expect(err?.message).toContain("allow_insecure_exposure");
  });

  it("server add without a terminal needs --fingerprint or --trust-on-first-use (exit 2); a wrong fingerprint saves nothing", async () => {
    const bare = await shed(["server", "add", net.hostAddr, "--ssh-port", String(server.sshPort)]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain("--fingerprint");
    const wrong = await shed(["server", "add", net.hostAddr, "--ssh-port", String(server.sshPort), "--fingerprint", `SHA256:${"A".repeat(43)}`]);
    expect(wrong.code).toBe(125);
    expect(wrong.stderr).toContain("HOST_KEY_MISMATCH");
    expect(wrong.stderr).toContain(hostKeyFingerprint(server));
    expect(() => statSync(clientConfig())).toThrow();
  });

  it("server add --fingerprint pins the host key and the TLS certificate and stores a token 0600, tried first", async () => {
    const fp = hostKeyFingerprint(server);
    const r = await shedJson(["server", "add", net.hostAddr, "--name", "remote", "--ssh-port", String(server.sshPort), "--fingerprint", fp]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.doc).toMatchObject({ name: "remote", security: "token", httpsPort: server.httpsPort });
    expect(statSync(clientConfig()).mode & 0o777).toBe(0o600);
    const entry = config().servers.remote!;
    const served = readFileSync(join(server.stateDir, "tls", "server.crt"), "utf8");
    expect(entry.tls_cert).toBe(served);
    expect(String(entry.token)).toMatch(/^shed_[a-f0-9]{12}_/);
    // Stored hashed only, and never logged.
    expect(readFileSync(join(server.stateDir, "tokens.json"), "utf8")).not.toContain(secretOf(String(entry.token)));
    expect(serverLog(server)).not.toContain(secretOf(String(entry.token)));
    expect(statSync(join(server.stateDir, "tls", "server.key")).mode & 0o777).toBe(0o600);
    const list = await shed(["server", "list"]);
    expect(list.stdout).toMatch(new RegExp(`remote\\s+https://${net.hostAddr.replaceAll(".", "\\.")}:${server.httpsPort}\\s+${server.sshPort}\\s+token\\s+ok`));
  });

  it("server add --trust-on-first-use works too", async () => {
    const r = await shed(["server", "add", net.hostAddr, "--name", "tofu", "--ssh-port", String(server.sshPort), "--trust-on-first-use"]);
    expect(r.code, r.stderr).toBe(0);
    expect(config().servers.tofu!.host_key).toBe(config().servers.remote!.host_key);
  });

  it("the CLI's verbs work over HTTPS with the minted token (SSE progress, the agent WebSocket, streams)", async () => {
    const run = async (args: string[]) => {
      const r = await shed(["-s", "remote", ...args]);
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0);
      return r.stdout;
    };
    await run(["create", "tls1", "--no-sync"]);
    expect(await run(["list"])).toContain("tls1");
    expect(await run(["exec", "tls1", "--", "sh", "-c", "echo over-https"])).toBe("over-https\n");
    expect(await run(["exec", "tls1", "true"])).toBe("");
    expect(JSON.parse(await run(["--json", "info", "tls1"]))).toMatchObject({ name: "tls1", state: "running" });
    const file = join(home, "payload.txt");
    writeFileSync(file, "copied over TLS\n");
    await run(["cp", file, "tls1:/tmp/payload.txt"]);
    expect(await run(["exec", "tls1", "cat", "/tmp/payload.txt"])).toBe("copied over TLS\n");
    await run(["logs", "tls1"]);
    await run(["stop", "tls1"]);
    await run(["start", "tls1"]);
    await run(["image", "ls"]);
    await run(["delete", "-f", "tls1"]);
    expect(await run(["list"])).not.toContain("tls1");
  }, 300_000);

  it("plain HTTP is refused with HTTPS_REQUIRED (no redirect); HTTPS without or with a wrong token is 401; /api/info is open", async () => {
    const token = String(config().servers.remote!.token);
    const plain = curl(["-H", `authorization: Bearer ${token}`, `http://${net.hostAddr}:${server.port}/api/sheds`]);
    expect(plain.code).toBe(400);
    expect(JSON.parse(plain.body)).toMatchObject({ code: "HTTPS_REQUIRED" });
    expect(JSON.parse(plain.body).message).toContain(String(server.httpsPort));
    const https = (args: string[], path: string) => curl(["-k", ...args, `https://${net.hostAddr}:${server.httpsPort}${path}`]);
    expect(https([], "/api/sheds").code).toBe(401);
    expect(https(["-H", `authorization: Bearer ${token.slice(0, -3)}abc`], "/api/sheds").code).toBe(401);
    expect(https(["-H", `authorization: Bearer ${token}`], "/api/sheds").code).toBe(200);
    const info = https([], "/api/info");
    expect(info.code).toBe(200);
    expect(JSON.parse(info.body)).toMatchObject({ auth: "token", httpsPort: server.httpsPort });
    // The WebSocket route needs it as well.
    expect(https([], "/api/sheds/none/agent").code).toBe(401);
  });

  it("openssl s_client sees the pinned certificate and only TLS 1.2 and 1.3", () => {
    const sClient = (flag: string) =>
      outside(["sh", "-c", `echo | openssl s_client -connect ${net.hostAddr}:${server.httpsPort} ${flag} 2>&1`]).stdout.toString();
    // TLS 1.0 and 1.1: the server answers with a protocol_version alert, no cipher is agreed.
    for (const old of ["-tls1", "-tls1_1"]) {
      const out = sClient(old);
      expect(out).toMatch(/alert protocol version|no protocols available/);
      expect(out).toContain("Cipher is (NONE)");
    }
    expect(sClient("-tls1_2")).toMatch(/New, TLSv1\.2, Cipher is [A-Z]/);
    expect(sClient("-tls1_3")).toMatch(/New, TLSv1\.3, Cipher is [A-Z]/);
    const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(sClient("-tls1_3"))![0];
    const fp = Bun.spawnSync(["openssl", "x509", "-noout", "-fingerprint", "-sha256"], { stdin: Buffer.from(pem) }).stdout.toString();
    expect(fp.trim().split("=")[1]).toBe(config().servers.remote!.tls_fingerprint);
  });

  it("a man in the middle with its own certificate at the pinned address is refused, with how to re-pin; no plain HTTP fallback", async () => {
    await server.kill("SIGTERM");
    const dir = mkdtempSync(join(home, "mitm-"));
    Bun.spawnSync(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", join(dir, "k"), "-out", join(dir, "c"), "-days", "2", "-subj", "/CN=test-server", "-addext", `subjectAltName=IP:${net.hostAddr}`]);
    const mitm = Bun.spawn(net.host.wrap(["openssl", "s_server", "-accept", `${net.hostAddr}:${server.httpsPort}`, "-cert", join(dir, "c"), "-key", join(dir, "k"), "-www", "-quiet"]), { stdout: "ignore", stderr: "ignore" });
    spawned.push(mitm);
    try {
      for (let i = 0; i < 50 && curl(["-k", `https://${net.hostAddr}:${server.httpsPort}/`]).code !== 200; i++) await Bun.sleep(100);
      const r = await shed(["-s", "remote", "list"]);
      expect(r.code).toBe(125);
      expect(r.stderr).toContain("TLS_PIN_MISMATCH");
      expect(r.stderr).toContain("different TLS certificate");
      expect(r.stderr).toContain("shed server update remote --refetch");
      const exec = await shed(["-s", "remote", "exec", "x", "true"]);
      expect(exec.stderr).toContain("TLS_PIN_MISMATCH");
    } finally {
      mitm.kill("SIGKILL");
      await mitm.exited;
    }
    await server.restart();
    expect((await shed(["-s", "remote", "list"])).code).toBe(0);
  }, 120_000);

  it("a token with a 2 s TTL is refreshed over SSH during a run of commands, unnoticed", async () => {
    const short = await start({ mode: "token", token_ttl: "2s" });
    const add = await shed(["server", "add", net.hostAddr, "--name", "short", "--ssh-port", String(short.sshPort), "--trust-on-first-use"]);
    expect(add.code, add.stderr).toBe(0);
    const first = String(config().servers.short!.token);
    for (let i = 0; i < 4; i++) {
      const r = await shed(["-s", "short", "list"]);
      expect(r.code, r.stderr).toBe(0);
      await Bun.sleep(1200);
    }
    expect(String(config().servers.short!.token)).not.toBe(first);
    // The first one, sent by hand, is expired, not merely unknown.
    const old = curl(["-k", "-H", `authorization: Bearer ${first}`, `https://${net.hostAddr}:${short.httpsPort}/api/sheds`]);
    expect(old.code).toBe(401);
    expect(JSON.parse(old.body).code).toBe("TOKEN_EXPIRED");
    // The add, then at least one refresh (how many more depends on how fast the lists ran).
    expect(serverLog(short).match(/"ssh: bootstrap"/g)!.length).toBeGreaterThanOrEqual(2);
  }, 120_000);

  it("a key removed from authorized_keys gets no new token (logged with its fingerprint)", async () => {
    writeFileSync(authorizedKeys(), "");
    try {
      const r = await shed(["server", "update", "remote", "--refetch"]);
      expect(r.code).toBe(125);
      expect(r.stderr).toContain("authorized_keys");
      const fp = Bun.spawnSync(["ssh-keygen", "-lf", join(home, ".ssh", "id_ed25519.pub")]).stdout.toString().split(/\s+/)[1]!;
      expect(serverLog(server)).toContain(fp);
      expect(serverLog(server)).toContain("not in authorized_keys refused");
    } finally {
      writeFileSync(authorizedKeys(), keyLine);
    }
  });

  it("token list shows ids, never tokens; revoke --all locks the old tokens out at once; update --refetch gets in again", async () => {
    const token = String(config().servers.remote!.token);
    const admin = (args: string[]) => Bun.spawnSync([join(DIST, "shed-server"), "token", ...args, "--config", server.configPath], { stdout: "pipe", stderr: "pipe" });
    const listed = admin(["list", "--json"]);
    expect(listed.exitCode).toBe(0);
    const ids = (JSON.parse(listed.stdout.toString()).tokens as { id: string }[]).map((t) => t.id);
    expect(ids).toContain(String(config().servers.remote!.token_id));
    expect(listed.stdout.toString()).not.toContain(secretOf(token));
    expect(admin(["revoke", "nosuch"]).exitCode).toBe(1);
    expect(admin(["revoke"]).exitCode).toBe(2);
    expect(admin(["revoke", "--all"]).exitCode).toBe(0);
    expect(curl(["-k", "-H", `authorization: Bearer ${token}`, `https://${net.hostAddr}:${server.httpsPort}/api/sheds`]).code).toBe(401);
    const refused = await shed(["-s", "remote", "list"]);
    expect(refused.code).toBe(125);
    expect(refused.stderr).toContain("--refetch");
    const again = await shed(["server", "update", "remote", "--refetch"]);
    expect(again.code, again.stderr).toBe(0);
    expect((await shed(["-s", "remote", "list"])).code).toBe(0);
  });

  it("on a terminal, server add shows the host key fingerprint and asks; no is nothing saved, yes adds", async () => {
    const fp = hostKeyFingerprint(server);
    const onTty = (answer: string, name: string) => {
      const cmd = `${join(DIST, "shed")} server add ${net.hostAddr} --name ${name} --ssh-port ${server.sshPort}`;
      const p = Bun.spawnSync(net.outside.wrap(["script", "-qec", cmd, "/dev/null"]), { stdin: Buffer.from(answer), stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env() } });
      return { code: p.exitCode, out: p.stdout.toString() + p.stderr.toString() };
    };
    const no = onTty("n\n", "asked-no");
    expect(no.out).toContain(fp);
    expect(no.out).toContain("Trust it?");
    expect(no.code).not.toBe(0);
    expect(config().servers["asked-no"]).toBeUndefined();
    const yes = onTty("y\n", "asked-yes");
    expect(yes.code, yes.out).toBe(0);
    expect(config().servers["asked-yes"]!.tls_fingerprint).toBe(config().servers.remote!.tls_fingerprint);
  });

  it("after a host key rotation, update --refetch refuses until the new fingerprint is given", async () => {
    const before = hostKeyFingerprint(server);
    const pinned = config().servers.remote!.host_key;
    rmSync(join(server.stateDir, "ssh_host_ed25519_key"));
    await server.restart();
    const after = hostKeyFingerprint(server);
    expect(after).not.toBe(before);
    const refused = await shed(["server", "update", "remote", "--refetch"]);
    expect(refused.code).toBe(125);
    expect(refused.stderr).toContain("HOST_KEY_MISMATCH");
    expect(refused.stderr).toContain("has changed");
    // Refused: the old pin stays (it also guards the silent token refresh and the door).
    expect(config().servers.remote!.host_key).toBe(pinned);
    const wrong = await shed(["server", "update", "remote", "--refetch", "--fingerprint", before]);
    expect(wrong.code).toBe(125);
    const ok = await shed(["server", "update", "remote", "--refetch", "--fingerprint", after]);
    expect(ok.code, ok.stderr).toBe(0);
    expect((await shed(["-s", "remote", "list"])).code).toBe(0);
  }, 120_000);

  it("mtls: the bootstrap signs a client certificate; a client without one is refused at the TLS layer", async () => {
    const mtls = await start({ mode: "mtls" });
    mutual = mtls;
    const add = await shedJson(["server", "add", net.hostAddr, "--name", "mutual", "--ssh-port", String(mtls.sshPort), "--trust-on-first-use"]);
    expect(add.code, add.stderr).toBe(0);
    expect(add.doc.security).toBe("mtls");
    expect((await shed(["-s", "mutual", "list"])).code).toBe(0);
    const bare = curl(["-k", `https://${net.hostAddr}:${mtls.httpsPort}/api/sheds`]);
    expect(bare.code).toBe(0);
    expect(bare.exit).not.toBe(0);
    const entry = config().servers.mutual!;
    const dir = mkdtempSync(join(home, "mtls-"));
    writeFileSync(join(dir, "c"), String(entry.client_cert));
    writeFileSync(join(dir, "k"), String(entry.client_key));
    chmodSync(join(dir, "k"), 0o600);
    const withCert = ["-k", "--cert", join(dir, "c"), "--key", join(dir, "k")];
    // The certificate alone passes TLS; the token that came with it is needed as well.
    expect(curl([...withCert, `https://${net.hostAddr}:${mtls.httpsPort}/api/sheds`]).code).toBe(401);
    expect(curl([...withCert, "-H", `authorization: Bearer ${entry.token}`, `https://${net.hostAddr}:${mtls.httpsPort}/api/sheds`]).code).toBe(200);
  }, 120_000);

  it("mtls: a client certificate lives auth.token_ttl and is renewed over SSH during a run of commands, unnoticed; an expired one fails at the TLS layer", async () => {
    const short = await start({ mode: "mtls", token_ttl: "3s" });
    const add = await shed(["server", "add", net.hostAddr, "--name", "mshort", "--ssh-port", String(short.sshPort), "--trust-on-first-use"]);
    expect(add.code, add.stderr).toBe(0);
    const first = config().servers.mshort!;
    const notAfter = (pem: string) => Date.parse(new X509Certificate(pem).validTo);
    // Its notAfter is the TTL to the second, not a whole day.
    expect(notAfter(String(first.client_cert)) - Date.now()).toBeLessThan(10_000);
    for (let i = 0; i < 5; i++) {
      const r = await shed(["-s", "mshort", "list"]);
      expect(r.code, r.stderr).toBe(0);
      await Bun.sleep(1200);
    }
    const now = config().servers.mshort!;
    expect(now.client_cert).not.toBe(first.client_cert);
    expect(now.token).not.toBe(first.token);
    expect(notAfter(String(now.client_cert))).toBeGreaterThan(notAfter(String(first.client_cert)));
    // The first certificate, offered by hand after its notAfter, is refused in the handshake.
    const dir = mkdtempSync(join(home, "mshort-"));
    writeFileSync(join(dir, "c"), String(first.client_cert));
    writeFileSync(join(dir, "k"), String(first.client_key), { mode: 0o600 });
    const old = curl(["-k", "--cert", join(dir, "c"), "--key", join(dir, "k"), "-H", `authorization: Bearer ${first.token}`, `https://${net.hostAddr}:${short.httpsPort}/api/sheds`]);
    expect(old.code).toBe(0);
    expect(old.exit).not.toBe(0);
  }, 120_000);

  it("mtls: shed-server token list shows the client certificates; revoke ID refuses that certificate at once, revoke --all every one", async () => {
    const mtls = mutual!;
    const admin = (args: string[]) => Bun.spawnSync([join(DIST, "shed-server"), "token", ...args, "--config", mtls.configPath], { stdout: "pipe", stderr: "pipe" });
    const entry = config().servers.mutual!;
    const serial = new X509Certificate(String(entry.client_cert)).serialNumber.toLowerCase();
    const listed = JSON.parse(admin(["list", "--json"]).stdout.toString()).tokens as { id: string; kind: string; certSerial?: string }[];
    const mine = listed.find((t) => t.certSerial === serial);
    expect(mine, JSON.stringify(listed)).toMatchObject({ kind: "cert", id: entry.token_id });
    expect(admin(["list"]).stdout.toString()).toContain(`serial ${serial}`);
    expect(admin(["revoke", mine!.id]).exitCode).toBe(0);
    const refused = await shed(["-s", "mutual", "list"]);
    expect(refused.code).toBe(125);
    expect(refused.stderr).toContain("--refetch");
    const again = await shed(["server", "update", "mutual", "--refetch"]);
    expect(again.code, again.stderr).toBe(0);
    expect(config().servers.mutual!.client_cert).not.toBe(entry.client_cert);
    expect((await shed(["-s", "mutual", "list"])).code).toBe(0);
    expect(admin(["revoke", "--all"]).exitCode).toBe(0);
    expect((await shed(["-s", "mutual", "list"])).code).toBe(125);
  }, 120_000);
});

/** The secret part of a minted token, by the server's own format (a split on "_" cuts it: base64url holds "_"). */
function secretOf(token: string): string {
  const match = TOKEN.exec(token);
  expect(match, `${token.slice(0, 18)}... is not a minted token`).not.toBeNull();
  return match![2]!;
}
