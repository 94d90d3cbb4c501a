import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type TestServer } from "../harness/index.ts";
import { makeTestNetwork, netnsMissing, type TestNetwork } from "../harness/netns.ts";
import { IMAGE_HOOK_MS, vmTestsMissing } from "../qemu/guest-image.ts";
import { instanceDir, requestLog, standinBinary, standinSection } from "./harness.ts";

/**
 * Seed 002's network for Firecracker sheds, all inside namespaces the test made: shed-server
 * in a "host" namespace makes the bridge (shed-br0 at 172.30.0.1/24), a tap per shed, NAT
 * and forwarding there; an "outside" namespace behind a veth stands for the internet. An
 * address already answering on the bridge (a third namespace squatting 172.30.0.2) is
 * skipped; two sheds get distinct addresses; the guest has its address, reaches its gateway
 * and, through NAT, the outside.
 */
const skip = vmTestsMissing() ?? (netnsMissing() ? `skipped: the network test needs ${netnsMissing()}` : undefined);
if (skip && !vmTestsMissing()) console.warn(skip);
const T = 600_000;
const OUTSIDE_PORT = 8080;

describe.skipIf(skip)("firecracker backend: the bridge network (in test-made namespaces)", () => {
  const work = mkdtempSync(join(tmpdir(), "shed-fc-net-"));
  const logDir = join(work, "requests");
  let net: TestNetwork;
  let server: TestServer;
  let outside: ReturnType<typeof Bun.spawn> | undefined;
  const squat = `shedt-fcsq-${process.pid}`;

  const exec = async (name: string, cmd: string) => {
    const r = await server.shed(["exec", name, "-u", "root", "--", "bash", "-c", cmd], { timeoutMs: 120_000 });
    if (r.code !== 0) throw new Error(`exec failed (${r.code}): ${r.stdout}${r.stderr}`);
    return r.stdout;
  };
  const ipOf = (name: string) => (JSON.parse(readFileSync(join(instanceDir(server, name), "instance.json"), "utf8")) as { data: { ip?: string } }).data.ip;

  beforeAll(async () => {
    net = makeTestNetwork();
    outside = Bun.spawn(
      net.outside.wrap([process.execPath, "-e", `Bun.serve({ hostname: "${net.outsideAddr}", port: ${OUTSIDE_PORT}, fetch: (req, s) => new Response("outside-ok from " + s.requestIP(req).address) }); console.log("up")`]),
      { stdout: "pipe", stderr: "inherit" },
    );
    const reader = (outside.stdout as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    reader.releaseLock();
    // The bridge made as seed 002 step 4 does (by hand: shed adopts it), and a host on it
    // that already owns 172.30.0.2.
    net.host.run(["ip", "link", "add", "shed-br0", "type", "bridge"]);
    net.host.run(["ip", "addr", "add", "172.30.0.1/24", "dev", "shed-br0"]);
    net.host.run(["ip", "link", "set", "shed-br0", "up"]);
    Bun.spawnSync(["ip", "netns", "add", squat]);
    net.host.run(["ip", "link", "add", "sq0", "type", "veth", "peer", "name", "sq1", "netns", squat]);
    net.host.run(["ip", "link", "set", "sq0", "master", "shed-br0", "up"]);
    for (const args of [["addr", "add", "172.30.0.2/24", "dev", "sq1"], ["link", "set", "sq1", "up"]]) Bun.spawnSync(["ip", "-n", squat, ...args]);
    server = await startServer({
      netns: net.host,
      config: {
        enabled_backends: ["firecracker"],
        default_backend: "firecracker",
        firecracker: await standinSection(standinBinary(join(work, "bin"), logDir), { bridge_name: "shed-br0", bridge_cidr: "172.30.0.1/24", stop_timeout: 60 }),
      },
    });
  }, IMAGE_HOOK_MS);

  afterAll(async () => {
    if (server) for (const name of ["net1", "net2"]) await server.shed(["delete", name, "--force"], { timeoutMs: T }).catch(() => {});
    await server?.stop();
    outside?.kill("SIGKILL");
    Bun.spawnSync(["ip", "netns", "del", squat]);
    await net?.remove();
    rmSync(work, { recursive: true, force: true });
  }, T);

  it("a shed gets a tap on the bridge and an address no one answers for (172.30.0.2 is taken: .3)", async () => {
    const created = await server.shed(["create", "net1", "--image", "base"], { timeoutMs: T });
    expect(created.code, created.stderr).toBe(0);
    expect(ipOf("net1")).toBe("172.30.0.3");
    const put = requestLog(logDir, "shed-net1").find((r) => r.path === "/network-interfaces/eth0");
    expect(put).toMatchObject({ status: 204, body: { iface_id: "eth0", host_dev_name: expect.stringMatching(/^shtap/), guest_mac: expect.stringMatching(/^52:54:00:/) } });
    const boot = requestLog(logDir, "shed-net1").find((r) => r.path === "/boot-source")!.body as { boot_args: string };
    expect(boot.boot_args).toContain("ip=172.30.0.3::172.30.0.1:255.255.255.0::eth0:off");
    const tap = (put!.body as { host_dev_name: string }).host_dev_name;
    expect(net.host.run(["ip", "-o", "link", "show", "dev", tap])).toContain("master shed-br0");
  }, T);

  it("the guest has its address, reaches its gateway, and the outside through NAT (seen from the host's address)", async () => {
    for (let i = 0; i < 60 && !(await exec("net1", "ip -4 -o addr show")).includes("172.30.0.3/24"); i++) await Bun.sleep(1000);
    expect(await exec("net1", "ip -4 -o addr show")).toContain("172.30.0.3/24");
    // The gateway answers ARP for its address (a datagram makes the guest resolve it).
    const neigh = await exec("net1", "echo x > /dev/udp/172.30.0.1/53; sleep 1; ip neigh show 172.30.0.1");
    expect(neigh).toMatch(/lladdr \S+ (REACHABLE|STALE|DELAY)/);
    expect(await exec("net1", `curl -s --max-time 20 http://${net.outsideAddr}:${OUTSIDE_PORT}/`)).toBe(`outside-ok from ${net.hostAddr}`);
  }, T);

  it("a second shed gets another address", async () => {
    const created = await server.shed(["create", "net2", "--image", "base"], { timeoutMs: T });
    expect(created.code, created.stderr).toBe(0);
    expect(ipOf("net2")).toBe("172.30.0.4");
  }, T);
});
