/**
 * The cost of HTTPS + token (issue 20), one run, same host, same backend:
 *   `shed list` and `shed exec <shed> true` against a server in auth.mode token (HTTPS, a
 *   pinned certificate, a minted token) vs the same against one in auth.mode open (plain HTTP).
 * Each figure is a whole CLI process, so it includes the TLS handshake a command pays.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanupDocker, ensureTestImage, startServer } from "../test/harness/index.ts";
import { compareTimes, median, report, run } from "./lib.ts";

/** CPU time (user + system, ms) of one CLI process: what TLS adds, unaffected by other load on the machine. */
async function cpuMs(argv: string[], env: Record<string, string>): Promise<number> {
  const p = Bun.spawn(argv, { stdout: "ignore", stderr: "ignore", env: { ...process.env, ...env } });
  await p.exited;
  const usage = p.resourceUsage();
  if (p.exitCode !== 0 || !usage) throw new Error(`${argv.join(" ")} exited ${p.exitCode}`);
  return Number(usage.cpuTime.user + usage.cpuTime.system) / 1000;
}

async function compareCpu(name: string, ours: [string[], Record<string, string>], peer: [string[], Record<string, string>], runs: number) {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < runs; i++) {
    a.push(await cpuMs(...ours));
    b.push(await cpuMs(...peer));
  }
  const [x, y] = [median(a), median(b)];
  report({ name, unit: "ms", ours: x, peer: y, peerName: "plain HTTP", ratio: x / y, better: "lower", target: "<= 1.15x" });
}

/**
 * Where HTTPS's extra cost was and is (Bun 1.4.5): a process's first HTTPS fetch loads and
 * parses the system CA bundle whatever its tls options (~3.5 ms CPU more than HTTP here);
 * the CLI's JSON and SSE calls to a pinned server therefore go over its own HTTP/1.1 client
 * on a TLS socket whose only CA is the pin (src/api/pinned-http.ts: ~0.8 ms), opened as the
 * command starts so the handshake overlaps start-up. What is left for list is the handshake
 * itself (both ends: the server's signature is P-256 already). exec is one agent WebSocket
 * over TLS (a pinned ca: no bundle), no fetch. TLS session resumption across processes was
 * not taken: a resumed TLS 1.3 session presents no certificate to check against the pin.
 */
const LIST_NOTE = "HTTPS adds one TLS handshake (pinned socket, opened as the command starts); no CA bundle is loaded: see bench/tls.bench.ts";

const image = await ensureTestImage("debian");
const home = mkdtempSync(join(tmpdir(), "shed-bench-tls-"));
Bun.spawnSync(["mkdir", "-p", join(home, ".ssh")]);
Bun.spawnSync(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", join(home, ".ssh", "id_ed25519")]);
writeFileSync(join(home, "authorized_keys"), readFileSync(join(home, ".ssh", "id_ed25519.pub")));
const docker = { docker: { default_image: image } };
const plain = await startServer({ config: docker });
const secure = await startServer({ config: { ...docker, https_port: 0, auth: { mode: "token" }, ssh: { authorized_keys: [join(home, "authorized_keys")] } } });
const bin = new URL("../dist/shed", import.meta.url).pathname;
const plainEnv = { SHED_CONFIG_DIR: plain.configDir };
const secureEnv = { SHED_CONFIG_DIR: join(home, "client"), HOME: home, SSH_AUTH_SOCK: "" };
const runs = Number(process.env.BENCH_RUNS ?? 25);
try {
  await run([bin, "server", "add", "127.0.0.1", "--name", "tls", "--ssh-port", String(secure.sshPort), "--trust-on-first-use"], { env: secureEnv });
  await run([bin, "create", "bp", "--no-sync"], { env: plainEnv });
  await run([bin, "create", "bs", "--no-sync"], { env: secureEnv });
  await compareTimes({
    name: "shed list (HTTPS+token vs plain HTTP)",
    peerName: "plain HTTP",
    runs,
    warmup: 3,
    ours: () => run([bin, "list"], { env: secureEnv }),
    peer: () => run([bin, "list"], { env: plainEnv }),
    target: "<= 1.15x",
    note: LIST_NOTE,
  });
  await compareTimes({
    name: "shed exec true (HTTPS+token vs plain HTTP)",
    peerName: "plain HTTP",
    runs,
    warmup: 3,
    ours: () => run([bin, "exec", "bs", "true"], { env: secureEnv }),
    peer: () => run([bin, "exec", "bp", "true"], { env: plainEnv }),
    target: "<= 1.15x",
  });
  await compareCpu("shed list, CPU time (HTTPS+token vs HTTP)", [[bin, "list"], secureEnv], [[bin, "list"], plainEnv], runs);
  await compareCpu("shed exec true, CPU time (HTTPS+token vs HTTP)", [[bin, "exec", "bs", "true"], secureEnv], [[bin, "exec", "bp", "true"], plainEnv], runs);
} finally {
  await plain.stop();
  await secure.stop();
  cleanupDocker();
  rmSync(home, { recursive: true, force: true });
}
