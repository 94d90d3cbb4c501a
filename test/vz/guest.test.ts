import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bounded } from "../harness/bounded.ts";
import { startServer, type TestServer } from "../harness/index.ts";
import { makeTestNetwork, netnsMissing, type TestNetwork } from "../harness/netns.ts";
import { baseImage, IMAGE_HOOK_MS, vmTestsMissing } from "../qemu/guest-image.ts";
import { installStandin, standinMissing } from "./standin/install.ts";

/**
 * What the guest does for a VZ shed, on one shed booted through the vfkit stand-in (with
 * vfkit's NAT NIC, so in a netns): the clock is stepped from the RTC when it lags (after a
 * host sleep, #240), the link runs at MTU 1400 with the MSS clamp unit run (Docker behind a
 * host VPN), and a guest that ignores the power button is ended by HardStop.
 */
const lacking = netnsMissing();
const skip = vmTestsMissing() ?? standinMissing() ?? (lacking ? `skipped: needs ${lacking}` : undefined);
if (skip) console.warn(`vz guest tests: ${skip}`);

describe.skipIf(skip)("vz guest: RTC clock, MTU and MSS clamp, HardStop fallback", () => {
  const dir = mkdtempSync(join(tmpdir(), "shed-vz-guest-"));
  const standin = installStandin(dir, { fault: "ignore-stop" });
  let net: TestNetwork;
  let server: TestServer;
  const T = 900_000;
  const exec = async (cmd: string) => {
    const r = await server.shed(["exec", "g", "-u", "root", "--", "sh", "-c", cmd], { timeoutMs: T });
    if (r.code !== 0) throw new Error(`exec ${cmd} failed (${r.code}): ${r.stdout}${r.stderr}`);
    return r.stdout.trim();
  };

  // Every wait of the hook is bounded below the hook's own budget (it once hung 15 min in CI
  // with no word of what it waited on): image build, server start, then create, whose CLI is
  // killed a minute after the server's own start_timeout (800 s) would have failed it.
  beforeAll(async () => {
    const image = (await bounded("building the base guest image", IMAGE_HOOK_MS - 60_000, baseImage())).ref;
    net = makeTestNetwork();
    server = await bounded(
      "starting shed-server",
      60_000,
      startServer({
        netns: net.host,
        config: {
          enabled_backends: ["vz"],
          default_backend: "vz",
          vz: { vfkit_path: standin.path, network: "nat", default_cpus: 1, default_memory_mb: 1024, start_timeout: 800, stop_timeout: 5, image_aliases: { base: image } },
        },
      }),
    );
    const r = await server.shed(["create", "g", "--image", "base"], { timeoutMs: 860_000 });
    if (r.code !== 0) throw new Error(`create through the vfkit stand-in failed or hung (exit ${r.code}; stand-in log ${standin.log}):\n${r.stdout}${r.stderr}`);
  }, IMAGE_HOOK_MS + T);

  afterAll(async () => {
    await server?.shed(["delete", "g", "--force"], { timeoutMs: T }).catch(() => {});
    await server?.stop();
    await net?.remove();
    rmSync(dir, { recursive: true, force: true });
  }, T);

  it("a guest clock an hour behind the RTC (as after a host sleep) is stepped forward by the agent", async () => {
    await exec("date -u -s @$(( $(date +%s) - 3600 ))");
    let lag = Infinity;
    for (let i = 0; i < 120 && Math.abs(lag) > 5; i++) {
      lag = Date.now() / 1000 - Number(await exec("date +%s"));
      if (Math.abs(lag) > 5) await Bun.sleep(1000);
    }
    expect(Math.abs(lag)).toBeLessThanOrEqual(5);
    expect(await exec("journalctl -b -u shed-agent.service --no-pager -o cat | grep -c 'clock stepped from the RTC' || true")).not.toBe("0");
  }, T);

  it("the VM's ethernet runs at MTU 1400 and shed-mss-clamp ran (the base image has no nft/iptables: nothing to clamp)", async () => {
    const mtus = await exec("for l in /sys/class/net/*; do [ \"$(cat $l/type)\" = 1 ] && [ -e $l/device ] && echo \"$(basename $l)=$(cat $l/mtu)\"; done; true");
    const why = await exec("networkctl list --no-pager; systemctl is-active systemd-networkd systemd-udevd; ls /etc/systemd/network; true");
    expect(mtus, why).toMatch(/^\S+=1400$/m);
    expect(mtus).not.toMatch(/=(?!1400$)\d+$/m);
    expect(await exec("systemctl is-active shed-mss-clamp.service")).toBe("active");
    expect(await exec("journalctl -b -u shed-mss-clamp.service --no-pager -o cat")).toContain("shed-mss-clamp: neither nft nor iptables");
  }, T);

  it("shed-mss-clamp with nftables (as in an image that has it) adds the clamp: run in a namespace of its own", () => {
    const p = Bun.spawnSync(["unshare", "--net", "sh", "-c", `sh ${join(import.meta.dirname, "../../guest/systemd/mss-clamp")} && sh ${join(import.meta.dirname, "../../guest/systemd/mss-clamp")} && nft list ruleset`]);
    const out = p.stdout.toString();
    expect(p.exitCode, p.stderr.toString()).toBe(0);
    expect(out).toContain("nft table inet shed_mss");
    expect(out).toContain("hook forward priority mangle");
    expect(out).toMatch(/tcp option maxseg size set rt mtu/);
    // Run twice (a restarted unit): one table, one rule.
    expect(out.match(/^table inet shed_mss/gm)?.length).toBe(1);
    expect(out.match(/maxseg size set rt mtu/g)?.length).toBe(1);
  });

  it("a guest that ignores Stop (the power button) is ended by HardStop: the shed stops, vfkit exits 0, its sockets go", async () => {
    const pid = standin.events().find((e) => e.event === "invoked")!.pid;
    const r = await server.shed(["stop", "g"], { timeoutMs: T });
    expect(r.code, r.stderr).toBe(0);
    const mine = standin.events().filter((e) => e.pid === pid);
    const asked = mine.filter((e) => e.event === "rest" && e.method === "POST").map((e) => e.state);
    expect(asked).toEqual(["Stop", "HardStop"]);
    expect(mine.find((e) => e.event === "exited")?.qemuExit).toBe(0);
    expect(mine.some((e) => e.event === "signal")).toBe(false);
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    const sockets = join(server.stateDir, "vz", "sockets", "g");
    expect(existsSync(join(sockets, "rest.sock"))).toBe(false);
    expect(existsSync(join(sockets, "agent.sock"))).toBe(false);
    const shown = (await server.shedJson(["list"])).sheds as { name: string; state: string }[];
    expect(shown.find((s) => s.name === "g")?.state).toBe("stopped");
  }, T);
});
