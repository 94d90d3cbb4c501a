import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { useTempDirs } from "../../../test/harness/temp-dir.ts";
import { ShedError } from "../../api/errors.ts";
import { parseServerConfig } from "../config/load.ts";
import { ServerConfigSchema } from "../config/schema.ts";
import { installService, uninstallService } from "./install.ts";
import { serverYamlTemplate } from "./server-yaml.ts";
import { launchdPlist, systemdUnit } from "./service-files.ts";

const tempDir = useTempDirs();

function fakeExecutable(): string {
  const file = join(tempDir("exe"), "shed-server");
  writeFileSync(file, "#!/bin/sh\n", { mode: 0o755 });
  return file;
}

const detected = async () => "detected docker: the first available in the order firecracker -> qemu -> docker";

describe("shed-server install", () => {
  it("the systemd unit runs the installed binary with the config, and ends only the server on stop", () => {
    const unit = systemdUnit({ binary: "/usr/local/bin/shed-server", config: "/etc/shed/server.yaml" });
    expect(unit).toContain("\nExecStart=/usr/local/bin/shed-server serve --config /etc/shed/server.yaml\n");
    expect(unit).toContain("\nKillMode=process\n");
    expect(unit).toContain("\nWantedBy=multi-user.target\n");
  });

  it("the server.yaml it writes parses to the defaults, with the detection as a comment", () => {
    const text = serverYamlTemplate({ name: "123", stateDir: "/var/lib/shed", detected: "detected docker: because", date: "2026-12-01" });
    expect(text).toContain("\n# On this host at install time: detected docker: because\ndefault_backend: detect\n");
    const parsed = parseServerConfig(text);
    const defaults = v.parse(ServerConfigSchema, {});
    expect(parsed).toEqual({ ...defaults, name: "123" });
  });

  const python = Bun.which("python3");
  if (!python) console.warn("skipped: the launchd plist check reads it with Python's plistlib, and there is no python3 here");
  it.skipIf(!python)("the launchd plist is a property list launchd reads (checked by Python's plistlib)", () => {
    const plist = launchdPlist({ binary: "/usr/local/bin/shed-server", config: "/etc/shed/a&b.yaml", logFile: "/var/log/shed-server.log" });
    const r = Bun.spawnSync([python!, "-c", "import json, plistlib, sys; print(json.dumps(plistlib.loads(sys.stdin.buffer.read())))"], {
      stdin: new TextEncoder().encode(plist),
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(r.exitCode, r.stderr.toString()).toBe(0);
    expect(JSON.parse(r.stdout.toString())).toEqual({
      Label: "dev.shed.server",
      ProgramArguments: ["/usr/local/bin/shed-server", "serve", "--config", "/etc/shed/a&b.yaml"],
      RunAtLoad: true,
      KeepAlive: { SuccessfulExit: false },
      AbandonProcessGroup: true,
      StandardOutPath: "/var/log/shed-server.log",
      StandardErrorPath: "/var/log/shed-server.log",
    });
  });

  it("installs binary, unit and config into a root; a second run keeps the config; uninstall keeps it too", async () => {
    const root = tempDir("root");
    const executable = fakeExecutable();
    const first = await installService({ root, executable, detected, hostname: "box", uid: 1000, platform: "linux" });
    expect(first.files.map((f) => f.path)).toEqual([
      join(root, "usr/local/bin/shed-server"),
      join(root, "etc/shed/server.yaml"),
      join(root, "etc/systemd/system/shed-server.service"),
    ]);
    expect(statSync(join(root, "usr/local/bin/shed-server")).mode & 0o777).toBe(0o755);
    expect(readFileSync(join(root, "etc/shed/server.yaml"), "utf8")).toContain('name: "box"');
    expect(first.next).toEqual([
      "start it:        systemctl daemon-reload && systemctl enable --now shed-server",
      "stop it:         systemctl stop shed-server   (sheds keep running; the next start re-adopts them)",
      "read its logs:   journalctl -u shed-server -f",
      "check the host:  /usr/local/bin/shed-server doctor --config /etc/shed/server.yaml",
    ]);

    writeFileSync(join(root, "etc/shed/server.yaml"), "name: mine\n");
    const second = await installService({ root, executable, detected, hostname: "box", uid: 1000, platform: "linux" });
    expect(second.files[1]).toEqual({ path: join(root, "etc/shed/server.yaml"), what: "kept (already there)" });
    expect(readFileSync(join(root, "etc/shed/server.yaml"), "utf8")).toBe("name: mine\n");

    const removed = uninstallService({ root, uid: 1000, platform: "linux" });
    expect(removed.files.map((f) => f.what)).toEqual(["removed", "removed"]);
    expect(existsSync(join(root, "etc/systemd/system/shed-server.service"))).toBe(false);
    expect(existsSync(join(root, "usr/local/bin/shed-server"))).toBe(false);
    expect(existsSync(join(root, "etc/shed/server.yaml"))).toBe(true);
  });

  it("on macOS: a launchd daemon and launchctl commands", async () => {
    const root = tempDir("root");
    const r = await installService({ root, executable: fakeExecutable(), detected, hostname: "mac", uid: 1000, platform: "darwin", config: "/etc/shed/x.yaml" });
    expect(readFileSync(join(root, "Library/LaunchDaemons/dev.shed.server.plist"), "utf8")).toContain("<string>/etc/shed/x.yaml</string>");
    expect(existsSync(join(root, "etc/shed/x.yaml"))).toBe(true);
    expect(r.next[0]).toBe("start it:        sudo launchctl bootstrap system /Library/LaunchDaemons/dev.shed.server.plist");
  });

  it("without root, installing into / is a clear error and writes nothing", async () => {
    const err = await installService({ root: "/", executable: fakeExecutable(), detected, hostname: "box", uid: 1000, platform: "linux" }).catch((e) => e);
    expect(err).toBeInstanceOf(ShedError);
    expect(err.code).toBe("FORBIDDEN");
    expect(err.message).toBe(
      "installing shed-server (it writes /etc/systemd/system/shed-server.service, /usr/local/bin/shed-server and /etc/shed/server.yaml) " +
        "needs root: run it with sudo (or give --root DIR to write into a staging directory)",
    );
    expect(() => uninstallService({ root: "/", uid: 1000, platform: "linux" })).toThrow(/needs root: run it with sudo/);
  });

  it("a relative --config is refused", async () => {
    const err = await installService({ root: tempDir("root"), config: "server.yaml", executable: fakeExecutable(), detected, hostname: "b", uid: 0 }).catch((e) => e);
    expect(err.message).toBe("--config must be an absolute path (got server.yaml)");
  });
});
