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
 * Where list's extra cost is (measured 2026-12-02, Bun 1.4.5): a process's first HTTPS fetch
 * costs ~18 ms more CPU than its first HTTP fetch, whatever the tls options (pinned ca, none,
 * rejectUnauthorized: false) and with ALPN forced to http/1.1; a second connection with a new
 * handshake costs ~1.5 ms. Bun.connect and WebSocket over TLS (what exec uses) cost ~4 ms. So
 * it is fetch's one-time TLS set-up on its HTTP thread (it also reads the system CA file four
 * times), not the handshake, the certificate (P-256 already) or a second round trip.
 */
const LIST_NOTE = "HTTPS cost is Bun fetch's one-time TLS set-up per process (~18 ms CPU), not the handshake: see bench/tls.bench.ts";

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
