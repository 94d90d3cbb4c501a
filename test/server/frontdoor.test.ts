import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { DIST, dockerAvailable, startServer, type TestServer } from "../harness/index.ts";

/**
 * What a new host meets first, with the compiled shed-server on this machine: which backend
 * detection picks and why (/api/info), `shed-server doctor`, and `shed-server install` into a
 * staging root whose unit systemd itself checks.
 */
const SERVER = join(DIST, "shed-server");
const missing = existsSync(SERVER) ? undefined : "skipped: needs dist/shed-server (make build)";
if (missing) console.warn(missing);

function run(argv: string[], env: Record<string, string> = {}) {
  const p = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
  return { code: p.exitCode, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

describe.skipIf(missing)("the front door", () => {
  const work = mkdtempSync(join(tmpdir(), "shed-frontdoor-"));
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer({ config: { default_backend: "detect" } });
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it("GET /api/info lists every backend, available or why not, and why the default is the default", async () => {
    const info = (await (await fetch(`${server.url}/api/info`)).json()) as any;
    console.log(`detection on this host: default ${info.defaultBackend}: ${info.defaultBackendReason}`);
    for (const b of info.backends) console.log(`  ${b.name}: available=${b.available}${b.emulated ? " emulated" : ""}${b.reason ? `: ${b.reason}` : ""}`);
    expect(info.backends.map((b: any) => b.name)).toEqual(["firecracker", "qemu", "docker", "vz"]);
    // No Firecracker here (no binary, a KVM that hangs guests): named, with why.
    expect(info.backends[0]).toMatchObject({ name: "firecracker", available: false });
    expect(info.backends[0].reason).toMatch(/firecracker|kvm/i);
    expect(info.backends[3]).toEqual({ name: "vz", available: false, reason: "vz runs on macOS (Apple Silicon) only" });
    expect(info.defaultBackendReason).toMatch(new RegExp(`^detected ${info.defaultBackend}`));
    for (const b of info.backends) if (b.name !== info.defaultBackend) expect(b.reason, b.name).toBeTruthy();
    const qemu = info.backends.find((b: any) => b.name === "qemu");
    if (dockerAvailable() && qemu.emulated) expect(info.defaultBackend).toBe("docker");
  });

  it.skipIf(existsSync("/dev/kvm") || !dockerAvailable())("without /dev/kvm: docker is the default and qemu says it would emulate", async () => {
    const info = (await (await fetch(`${server.url}/api/info`)).json()) as any;
    expect(info.defaultBackend).toBe("docker");
    expect(info.defaultBackendReason).toBe(
      "detected docker: the first available in the order firecracker -> qemu -> docker (" +
        `firecracker: ${info.backends[0].reason}; ` +
        "qemu: VMs run emulated under TCG (slow): no /dev/kvm on this host (no hardware virtualization, or the kvm module is not loaded))",
    );
    expect(info.backends[1]).toMatchObject({ name: "qemu", available: true, emulated: true });
    expect(info.backends[1].reason).toBe(
      "VMs run emulated under TCG (slow): no /dev/kvm on this host (no hardware virtualization, or the kvm module is not loaded); " +
        "docker is preferred while it is available; use it per shed with `shed create --backend qemu`, or set default_backend: qemu in server.yaml",
    );
    expect(info.backends[2]).toMatchObject({ name: "docker", available: true });
    expect(info.backends[2].reason).toBeUndefined();
  });

  /** A server.yaml for doctor that describes the running test server. */
  function doctorConfig(extra: Record<string, unknown> = {}): string {
    const keys = join(work, "authorized_keys");
    writeFileSync(keys, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl test@shed\n");
    const path = join(work, `doctor-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(path, stringify({ state_dir: server.stateDir, http_port: server.port, ssh_port: server.sshPort, ssh: { authorized_keys: [keys] }, ...extra }));
    return path;
  }

  it("doctor on this host: one line per check, the ports held by this server, exit 0", () => {
    const r = run([SERVER, "doctor", "--config", doctorConfig()]);
    console.log(`shed-server doctor on this host:\n${r.stdout}`);
    expect(r.stderr).toBe("");
    const lines = r.stdout.trim().split("\n");
    expect(lines.map((l) => l.split(/\s+/)[1])).toEqual(["config", "docker", "qemu", "kvm", "erofs-utils", "e2fsprogs", "firecracker", "firecracker-kvm", "vfkit", "disk", "http", "ssh", "ssh", "state"]);
    const line = (check: string) => lines.find((l) => l.slice(6).startsWith(check))!;
    expect(line("http port")).toMatch(new RegExp(`^PASS  http port +127\\.0\\.0\\.1:${server.port} is held by this server \\(pid ${server.pid}\\)$`));
    expect(line("ssh port")).toMatch(new RegExp(`^PASS  ssh port +127\\.0\\.0\\.1:${server.sshPort} is held by this server \\(pid ${server.pid}\\)$`));
    expect(line("ssh keys")).toMatch(/^PASS {2}ssh keys +1 authorized key in /);
    expect(line("state dir")).toMatch(/^PASS {2}state dir +.* is readable and writable$/);
    expect(line("erofs-utils")).toMatch(/^PASS/);
    if (dockerAvailable()) expect(line("docker")).toMatch(/^PASS {2}docker +Docker engine \S+ \(API [\d.]+\) answers on \/var\/run\/docker\.sock$/);
    if (!existsSync("/dev/kvm")) {
      expect(line("kvm")).toBe(
        "WARN  kvm              no /dev/kvm on this host (no hardware virtualization, or the kvm module is not loaded); VMs run emulated under TCG (slow); " +
          "fix: enable hardware virtualization (firmware, or nested virtualization of the host VM) and load the kvm module",
      );
    }
    expect(r.code).toBe(0);

    const json = JSON.parse(run([SERVER, "doctor", "--json", "--config", doctorConfig()]).stdout);
    expect(json.ok).toBe(true);
    expect(json.checks[10]).toMatchObject({ check: "http port", status: "PASS" });
  });

  it("doctor: a port another process holds is a FAIL naming it, and the exit code says so", () => {
    const other = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      const r = run([SERVER, "doctor", "--config", doctorConfig({ http_port: other.port })]);
      expect(r.code).toBe(1);
      const line = r.stdout.split("\n").find((l) => l.includes("http port"))!;
      expect(line).toMatch(new RegExp(`^FAIL  http port +127\\.0\\.0\\.1:${other.port} is in use by pid ${process.pid} \\(\\S+\\); fix: stop it, or set http_port in server.yaml to a free port$`));
    } finally {
      other.stop(true);
    }
  });

  it("doctor on a host without Docker or QEMU: FAIL lines with the package to install, no stack trace", () => {
    const config = doctorConfig({ docker: { socket: join(work, "no-docker.sock") } });
    // An empty PATH: no qemu-system-x86_64, mkfs.erofs or mkfs.ext4 to find.
    const r = run([SERVER, "doctor", "--config", config], { PATH: join(work, "empty-path") });
    console.log(`doctor without Docker or QEMU:\n${r.stdout}`);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("");
    const fails = r.stdout.split("\n").filter((l) => l.startsWith("FAIL"));
    expect(fails).toEqual([
      `FAIL  docker           no Docker engine socket at ${join(work, "no-docker.sock")}; fix: install Docker (apt-get install docker.io) and start it (systemctl start docker, or dockerd); or set docker.socket`,
      "FAIL  qemu             qemu-system-x86_64 not found; fix: apt-get install qemu-system-x86 (or set qemu.binary in server.yaml)",
      "FAIL  erofs-utils      mkfs.erofs not found (image roots of VM sheds); fix: apt-get install erofs-utils",
      "FAIL  e2fsprogs        mkfs.ext4 not found (writable disks of VM sheds); fix: apt-get install e2fsprogs",
    ]);
  });

  it("doctor with a broken server.yaml: one FAIL line, no stack trace", () => {
    const bad = join(work, "bad.yaml");
    writeFileSync(bad, "http_port: lots\n");
    const r = run([SERVER, "doctor", "--config", bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^FAIL {2}config {2}.*http_port.*\(INVALID_CONFIG\); fix: fix server\.yaml/);
  });

  const verify = Bun.which("systemd-analyze") ? undefined : "skipped: needs systemd-analyze (apt-get install systemd)";
  if (verify) console.warn(verify);

  it.skipIf(verify)("install --root DIR writes a unit systemd-analyze verify accepts, a valid server.yaml, and uninstall removes it", () => {
    const root = join(work, "root");
    const r = run([SERVER, "install", "--root", root]);
    console.log(`shed-server install --root:\n${r.stdout}`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("start it:        systemctl daemon-reload && systemctl enable --now shed-server");
    expect(r.stdout).toContain("read its logs:   journalctl -u shed-server -f");
    const config = readFileSync(join(root, "etc/shed/server.yaml"), "utf8");
    expect(config).toMatch(/# On this host at install time: detected \w+/);
    const valid = run([SERVER, "config-validate", "--config", join(root, "etc/shed/server.yaml")]);
    expect(valid.code, valid.stderr).toBe(0);

    // The staging root is a system with systemd: its own units beside ours.
    cpSync("/usr/lib/systemd/system", join(root, "usr/lib/systemd/system"), { recursive: true });
    const checked = run(["systemd-analyze", "verify", `--root=${root}`, "shed-server.service"]);
    expect(checked.stderr).toBe("");
    expect(checked.code).toBe(0);
    expect(run([join(root, "usr/local/bin/shed-server"), "version"]).stdout).toMatch(/^shed-server /);
    // Without the binary the same check fails: verify really looks at what the unit runs.
    renameSync(join(root, "usr/local/bin/shed-server"), join(root, "usr/local/bin/elsewhere"));
    expect(run(["systemd-analyze", "verify", `--root=${root}`, "shed-server.service"]).stderr).toContain(
      "Command /usr/local/bin/shed-server is not executable",
    );
    renameSync(join(root, "usr/local/bin/elsewhere"), join(root, "usr/local/bin/shed-server"));

    const removed = run([SERVER, "uninstall", "--root", root]);
    expect(removed.code, removed.stderr).toBe(0);
    expect(existsSync(join(root, "etc/systemd/system/shed-server.service"))).toBe(false);
    expect(existsSync(join(root, "usr/local/bin/shed-server"))).toBe(false);
    expect(existsSync(join(root, "etc/shed/server.yaml"))).toBe(true);
  });

  it("install without root: a clear error, nothing written", () => {
    const r = run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", SERVER, "install"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      "shed-server: installing shed-server (it writes /etc/systemd/system/shed-server.service, /usr/local/bin/shed-server and /etc/shed/server.yaml) " +
        "needs root: run it with sudo (or give --root DIR to write into a staging directory) (FORBIDDEN)\n",
    );
  });
});
