/**
 * SSH figures beside OpenSSH's sshd, one run, same client (OpenSSH ssh/sftp), same key type
 * (ed25519) and the same cipher (aes128-gcm, which both offer):
 *   `ssh -p <door> shed@127.0.0.1 true` vs `ssh -p <sshd> <user>@127.0.0.1 true` (whole process)
 *   sftp get of a 256 MiB file from the shed vs from sshd's host
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { cleanupDocker, ensureTestImage, startServer } from "../test/harness/index.ts";
import { opensshArgs } from "../test/harness/openssh.ts";
import { compareRates, compareTimes, run } from "./lib.ts";

const work = mkdtempSync(join(tmpdir(), "shed-bench-ssh-"));
const key = join(work, "id_ed25519");
await run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key]);
await run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", join(work, "host_key")]);
writeFileSync(join(work, "authorized_keys"), await Bun.file(`${key}.pub`).text());
chmodSync(work, 0o755);

// The peer: a real sshd on loopback, key login to a throwaway user with an empty home (root's
// shell start-up here runs pyenv init, which would time the dotfiles, not sshd).
const PEER_USER = "shedbenchpeer";
const peerHome = join(work, "home");
mkdirSync(peerHome);
// `-p '*'`: no password, but not locked (sshd refuses locked accounts without PAM).
await run(["useradd", "-M", "-d", peerHome, "-s", "/bin/bash", "-p", "*", PEER_USER]);
await run(["chown", PEER_USER, peerHome]);
const sshdPort = 30000 + Math.floor(Math.random() * 20000);
mkdirSync("/run/sshd", { recursive: true });
writeFileSync(
  join(work, "sshd_config"),
  [
    `Port ${sshdPort}`,
    "ListenAddress 127.0.0.1",
    `HostKey ${join(work, "host_key")}`,
    `AuthorizedKeysFile ${join(work, "authorized_keys")}`,
    "PrintLastLog no",
    "PrintMotd no",
    "PasswordAuthentication no",
    "UsePAM no",
    "StrictModes no",
    `PidFile ${join(work, "sshd.pid")}`,
    "Subsystem sftp internal-sftp",
  ].join("\n"),
);
const sshd = Bun.spawn(["/usr/sbin/sshd", "-D", "-e", "-f", join(work, "sshd_config")], { stderr: process.env.BENCH_DEBUG ? "inherit" : "ignore" });

const image = await ensureTestImage("debian");
const server = await startServer({ config: { docker: { default_image: image }, ssh: { auth: "enforce", authorized_keys: [join(work, "authorized_keys")] } } });
try {
  const hostKey = ((await (await fetch(`${server.url}/api/ssh-host-key`)).json()) as { key: string }).key;
  const peerKey = (await Bun.file(join(work, "host_key.pub")).text()).split(" ").slice(0, 2).join(" ");
  writeFileSync(join(work, "known_hosts"), `[127.0.0.1]:${server.sshPort} ${hostKey}\n[127.0.0.1]:${sshdPort} ${peerKey}\n`);
  const opts = (port: number, portFlag: "-p" | "-P" = "-p") =>
    opensshArgs({ port, key, portFlag, knownHosts: join(work, "known_hosts"), options: ["Ciphers=aes128-gcm@openssh.com"] });
  await run([join(import.meta.dirname, "../dist/shed"), "create", "sshb"], { env: { SHED_CONFIG_DIR: server.configDir } });

  await compareTimes({
    name: "ssh true (latency, median)",
    peerName: "OpenSSH sshd",
    runs: Number(process.env.BENCH_RUNS ?? 20),
    warmup: 3,
    ours: () => run(["ssh", ...opts(server.sshPort), "sshb@127.0.0.1", "true"]),
    peer: () => run(["ssh", ...opts(sshdPort), `${PEER_USER}@127.0.0.1`, "true"]),
    accel: "container (docker)",
    target: "<= 1.2x",
  });

  const bytes = 256 * 1024 * 1024;
  await run(["ssh", ...opts(server.sshPort), "sshb@127.0.0.1", `head -c ${bytes} /dev/urandom > /tmp/big`]);
  await run(["sh", "-c", `head -c ${bytes} /dev/urandom > ${join(work, "big")}`]);
  const batch = (src: string) => {
    const path = join(work, `batch-${src.replaceAll("/", "_")}`);
    writeFileSync(path, `get ${src} ${join(work, "got")}\n`);
    return path;
  };
  // The door's CPU per get, for the note: the relay costs CPU sshd does not spend, so on a
  // loaded machine (2 shared cores) the ratio falls with the load average.
  const cpuSeconds = () => {
    const stat = readFileSync(`/proc/${server.pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  };
  const doorCpu: number[] = [];
  const sftpRow: Parameters<typeof compareRates>[0] = {
    name: "sftp get 256 MiB (throughput)",
    peerName: "OpenSSH sshd",
    runs: Number(process.env.BENCH_RATE_RUNS ?? 3),
    bytes,
    ours: async () => {
      const before = cpuSeconds();
      await run(["sftp", ...opts(server.sshPort, "-P"), "-b", batch("/tmp/big"), "sshb@127.0.0.1"]);
      doorCpu.push(cpuSeconds() - before);
      sftpRow.note = `shed-server CPU per get ${doorCpu.map((c) => c.toFixed(2)).join("/")} s; load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cpus`;
    },
    peer: () => run(["sftp", ...opts(sshdPort, "-P"), "-b", batch(join(work, "big")), `${PEER_USER}@127.0.0.1`]),
    accel: "container (docker)",
    target: ">= 0.9x",
  };
  await compareRates(sftpRow);
} finally {
  sshd.kill();
  await sshd.exited;
  await run(["userdel", PEER_USER]).catch(() => {});
  await server.stop();
  cleanupDocker();
  rmSync(work, { recursive: true, force: true });
}
