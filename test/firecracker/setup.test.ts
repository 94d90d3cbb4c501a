import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { DIST } from "../harness/index.ts";
import { makeTestNetwork, netnsMissing, type TestNetwork } from "../harness/netns.ts";
import { standinBinary } from "./harness.ts";

/**
 * `shed-server setup` for the firecracker backend, inside a namespace the test made: a dry
 * run says what it would make and makes nothing; a run makes the directories, the bridge,
 * forwarding, the NAT table and CAP_NET_ADMIN on both binaries (copies here), and a second
 * run finds everything present and changes nothing.
 */
const missing =
  netnsMissing() ??
  (!existsSync(join(DIST, "shed-server")) ? "dist/shed-server (bun build.ts)" : undefined) ??
  (!Bun.which("setcap") || !Bun.which("getcap") ? "setcap and getcap (apt-get install libcap2-bin)" : undefined);
if (missing) console.warn(`shed-server setup: skipped: needs ${missing}`);

type Steps = { dryRun: boolean; steps: { backend: string; step: string; status: string; detail: string }[] };

describe.skipIf(missing)("shed-server setup (firecracker, in a test-made namespace)", () => {
  const work = mkdtempSync(join(tmpdir(), "shed-fc-setup-"));
  const server = join(work, "shed-server");
  const config = join(work, "server.yaml");
  let net: TestNetwork;
  let firecracker: string;

  const setup = (...args: string[]): Steps => {
    const r = Bun.spawnSync(net.host.wrap([server, "setup", "--config", config, "--json", ...args]), { stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`setup ${args.join(" ")} failed (${r.exitCode}): ${r.stderr.toString()}`);
    return JSON.parse(r.stdout.toString()) as Steps;
  };
  const statuses = (s: Steps) => s.steps.map((x) => `${x.step} ${x.status}`);

  beforeAll(() => {
    net = makeTestNetwork();
    copyFileSync(join(DIST, "shed-server"), server);
    Bun.spawnSync(["chmod", "755", server]);
    firecracker = standinBinary(join(work, "bin"), join(work, "requests"));
    writeFileSync(
      config,
      stringify({
        state_dir: join(work, "state"),
        enabled_backends: ["firecracker"],
        default_backend: "firecracker",
        firecracker: { binary: firecracker, instance_dir: join(work, "instances"), socket_dir: join(work, "sockets"), bridge_name: "shed-br0", bridge_cidr: "172.30.0.1/24" },
      }),
    );
  });

  afterAll(async () => {
    await net?.remove();
    rmSync(work, { recursive: true, force: true });
  });

  // A new namespace may start with forwarding on (kernels that copy it from the host's).
  let forwardingOn = false;

  it("--dry-run says what it would make and makes nothing", () => {
    forwardingOn = net.host.run(["cat", "/proc/sys/net/ipv4/ip_forward"]).trim() === "1";
    const plan = setup("--dry-run");
    expect(plan.dryRun).toBe(true);
    expect(statuses(plan)).toEqual([
      "directory would make",
      "directory would make",
      "bridge would make",
      forwardingOn ? "forwarding present" : "forwarding would make",
      "nat would make",
      "capability would make",
      "capability would make",
    ]);
    expect(existsSync(join(work, "instances"))).toBe(false);
    expect(Bun.spawnSync(net.host.wrap(["ip", "link", "show", "shed-br0"])).exitCode).not.toBe(0);
  });

  it("makes each step, and a second run finds all of it present and changes nothing", () => {
    expect(statuses(setup())).toEqual(["directory made", "directory made", "bridge made", forwardingOn ? "forwarding present" : "forwarding made", "nat made", "capability made", "capability made"]);
    const before = {
      links: net.host.run(["ip", "-o", "link", "show", "shed-br0"]),
      addrs: net.host.run(["ip", "-o", "-4", "addr", "show", "dev", "shed-br0"]),
      rules: net.host.run(["nft", "list", "ruleset"]),
    };
    expect(before.addrs).toContain("172.30.0.1/24");
    expect(before.rules).toContain("table inet shed-vmnet-shed-br0");
    expect(before.rules).toMatch(/masquerade/);
    expect(net.host.run(["cat", "/proc/sys/net/ipv4/ip_forward"]).trim()).toBe("1");
    for (const bin of [server, firecracker]) expect(Bun.spawnSync(["getcap", bin], { stdout: "pipe" }).stdout.toString()).toContain("cap_net_admin");
    expect(statuses(setup()).every((s) => s.endsWith(" present"))).toBe(true);
    expect({
      links: net.host.run(["ip", "-o", "link", "show", "shed-br0"]),
      addrs: net.host.run(["ip", "-o", "-4", "addr", "show", "dev", "shed-br0"]),
      rules: net.host.run(["nft", "list", "ruleset"]),
    }).toEqual(before);
  });
});
