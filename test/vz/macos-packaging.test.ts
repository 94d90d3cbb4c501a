import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { launchdPlist } from "../../src/server/install/service-files.ts";
import { DIST } from "../harness/index.ts";

/**
 * What a Mac running the vz backend gets, checked here where no Mac is: `make cross` output
 * (a darwin-arm64 shed-server and CLI, the linux-arm64 agent its guests run, and linux-arm64
 * builds of all three) by `file`, and the launchd plist `shed-server install` writes, read as
 * an XML property list (plutil is not here) with the keys launchd requires.
 */
const CROSS: [string, RegExp][] = [
  ["shed-server-darwin-arm64", /Mach-O 64-bit (arm64|aarch64) executable/],
  ["shed-darwin-arm64", /Mach-O 64-bit (arm64|aarch64) executable/],
  ["shed-agent-linux-arm64", /ELF 64-bit LSB (pie )?executable, ARM aarch64/],
  ["shed-server-linux-arm64", /ELF 64-bit LSB (pie )?executable, ARM aarch64/],
  ["shed-linux-arm64", /ELF 64-bit LSB (pie )?executable, ARM aarch64/],
];

describe("vz on macOS: cross builds and the launchd plist", () => {
  const missing = CROSS.filter(([f]) => !existsSync(join(DIST, f))).map(([f]) => f);
  const noFile = !Bun.which("file");
  const why = noFile ? "`file` is not installed (apt-get install file)" : missing.length ? `dist/ lacks ${missing.join(", ")}: run \`make cross\`` : undefined;
  if (why) console.warn(`skipped: the cross-build check needs ${why}`);
  it.skipIf(!!why)("make cross: Mach-O arm64 for the Mac, ELF aarch64 for Linux and the guests", () => {
    for (const [name, want] of CROSS) {
      const out = Bun.spawnSync(["file", "-b", join(DIST, name)], { stdout: "pipe" }).stdout.toString();
      expect(out, name).toMatch(want);
    }
  });

  const python = Bun.which("python3");
  if (!python) console.warn("skipped: the plist is read by Python's plistlib as XML, and there is no python3 here");
  it.skipIf(!python)("the launchd plist: an XML property list with launchd's required keys", () => {
    const plist = launchdPlist({ binary: "/opt/homebrew/bin/shed-server", config: "/opt/homebrew/etc/shed/server.yaml", logFile: "/opt/homebrew/var/log/shed-server.log" });
    expect(plist.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true);
    expect(plist).toContain('<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">');
    const read = "import json, plistlib, sys; print(json.dumps(plistlib.loads(sys.stdin.buffer.read(), fmt=plistlib.FMT_XML)))";
    const r = Bun.spawnSync([python!, "-c", read], { stdin: new TextEncoder().encode(plist), stdout: "pipe", stderr: "pipe" });
    expect(r.exitCode, r.stderr.toString()).toBe(0);
    const doc = JSON.parse(r.stdout.toString());
    // launchd.plist(5): Label (unique string) and Program or ProgramArguments are required.
    expect(typeof doc.Label).toBe("string");
    expect(doc.Label).toMatch(/^[A-Za-z0-9.-]+$/);
    expect(Array.isArray(doc.ProgramArguments) && doc.ProgramArguments.length > 0).toBe(true);
    expect(doc.ProgramArguments[0]).toMatch(/^\//);
    for (const key of Object.keys(doc)) {
      expect(["Label", "Program", "ProgramArguments", "RunAtLoad", "KeepAlive", "AbandonProcessGroup", "StandardOutPath", "StandardErrorPath", "EnvironmentVariables", "WorkingDirectory", "UserName"], key).toContain(key);
    }
  });
});
