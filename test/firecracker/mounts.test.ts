import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runningPid } from "../../src/proc/pid-file.ts";
import { eventually } from "../harness/eventually.ts";
import { startServer, type TestServer } from "../harness/index.ts";
import { makeTestNetwork, netnsMissing, type TestNetwork } from "../harness/netns.ts";
import { IMAGE_HOOK_MS, vmTestsMissing } from "../qemu/guest-image.ts";
import { instanceDir, standinBinary, standinSection } from "./harness.ts";

/**
 * Host paths in a Firecracker shed (seed 002, seed 004), through the stand-in, inside a
 * network namespace the test made (the bridge, its 9P server and the taps live there only):
 * --local-dir over 9P/TCP to the shed's diod on the bridge, both ways, still working after
 * shed-server is killed with SIGKILL and started again (its diod is the same process); a
 * single-file credential (a config mount of a file) copied in by tar over the agent and kept
 * in sync both ways while the shed runs.
 */
const skip = vmTestsMissing() ?? (netnsMissing() ? `skipped: the 9P test needs ${netnsMissing()}` : undefined);
if (skip && !vmTestsMissing()) console.warn(skip);
const diodMissing = Bun.which("diod") ? undefined : "skipped: diod (the 9P server) is not installed (make setup installs it)";
if (diodMissing) console.warn(diodMissing);
const T = 600_000;

describe.skipIf(skip ?? diodMissing)("firecracker backend: host directories over 9P and file credentials in sync", () => {
  const work = mkdtempSync(join(tmpdir(), "shed-fc-mounts-"));
  const workspace = join(work, "ws");
  const credDir = join(work, "creds");
  const cred = join(credDir, "token.json");
  let net: TestNetwork;
  let server: TestServer;

  const exec = async (cmd: string, user = "shed") => {
    const r = await server.shed(["exec", "mnt", "-u", user, "--", "bash", "-c", cmd], { timeoutMs: 120_000 });
    if (r.code !== 0) throw new Error(`exec failed (${r.code}): ${r.stdout}${r.stderr}`);
    return r.stdout;
  };
  const diod = () => {
    const dir = instanceDir(server, "mnt");
    return runningPid(join(dir, "diod.pid"), join(dir, "diod.log"));
  };

  beforeAll(async () => {
    mkdirSync(workspace, { recursive: true });
    mkdirSync(credDir, { recursive: true });
    writeFileSync(join(workspace, "from-host.txt"), "host edit\n");
    writeFileSync(cred, '{"token":"one"}\n');
    // 9P maps uids 1:1 (seed 002): the shed user (1000) owns what it writes in.
    for (const p of [workspace, join(workspace, "from-host.txt")]) chownSync(p, 1000, 1000);
    chmodSync(work, 0o755);
    net = makeTestNetwork();
    server = await startServer({
      netns: net.host,
      config: {
        enabled_backends: ["firecracker"],
        default_backend: "firecracker",
        mounts: { token: { source: cred, target: "/home/shed/.config/tool/token.json", readonly: false } },
        firecracker: await standinSection(standinBinary(join(work, "bin"), join(work, "requests")), { stop_timeout: 60 }),
      },
    });
  }, IMAGE_HOOK_MS);

  afterAll(async () => {
    if (server) await server.shed(["delete", "mnt", "--force"], { timeoutMs: T }).catch(() => {});
    await server?.stop();
    await net?.remove();
    rmSync(work, { recursive: true, force: true });
  }, T);

  it("--local-dir over 9P: a host file is seen in the shed, one the shed writes is on the host", async () => {
    const created = await server.shedJson(["create", "mnt", "--image", "base", "--local-dir", workspace], { timeoutMs: T });
    expect(created.state, JSON.stringify(created)).toBe("running");
    expect(created.warnings ?? []).toEqual([]);
    expect(diod()).toBeGreaterThan(0);
    expect(await exec("grep ' /workspace ' /proc/mounts")).toMatch(/^172\.30\.0\.1 \/workspace 9p .*trans=tcp/);
    expect(await exec("cat /workspace/from-host.txt; echo shed edit > /workspace/from-shed.txt; id -u")).toBe("host edit\n1000\n");
    expect(readFileSync(join(workspace, "from-shed.txt"), "utf8")).toBe("shed edit\n");
    // 1:1 uids: the shed user's file is uid 1000's on the host.
    expect(Bun.spawnSync(["stat", "-c", "%u", join(workspace, "from-shed.txt")]).stdout.toString().trim()).toBe("1000");
  }, T);

  it("a file credential is copied in on create, and kept in sync both ways while the shed runs", async () => {
    const target = "/home/shed/.config/tool/token.json";
    expect(await exec(`cat ${target}`)).toBe('{"token":"one"}\n');
    writeFileSync(cred, '{"token":"two-from-host"}\n');
    expect(await eventually(() => exec(`cat ${target}`), '{"token":"two-from-host"}\n')).toBe('{"token":"two-from-host"}\n');
    await exec(`echo '{"token":"three-from-shed"}' > ${target}`);
    expect(await eventually(() => readFileSync(cred, "utf8"), '{"token":"three-from-shed"}\n')).toBe('{"token":"three-from-shed"}\n');
  }, T);

  it("shed-server killed with SIGKILL and started again: the same diod serves, the mount and the sync keep working", async () => {
    const before = diod();
    await server.kill("SIGKILL");
    writeFileSync(join(workspace, "while-down.txt"), "written while the server was down\n");
    await server.restart();
    expect(diod()).toBe(before);
    expect(await exec("cat /workspace/while-down.txt; echo after > /workspace/after-restart.txt")).toBe("written while the server was down\n");
    expect(readFileSync(join(workspace, "after-restart.txt"), "utf8")).toBe("after\n");
    writeFileSync(cred, '{"token":"four-after-restart"}\n');
    expect(await eventually(() => exec("cat /home/shed/.config/tool/token.json"), '{"token":"four-after-restart"}\n')).toBe('{"token":"four-after-restart"}\n');
  }, T);

  it("stop ends the shed's diod; start serves and mounts again", async () => {
    const stopped = await server.shed(["stop", "mnt"], { timeoutMs: T });
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(diod()).toBeUndefined();
    const started = await server.shed(["start", "mnt"], { timeoutMs: T });
    expect(started.code, started.stderr).toBe(0);
    expect(diod()).toBeGreaterThan(0);
    expect(await exec("cat /workspace/after-restart.txt")).toBe("after\n");
  }, T);
});
