import { chmodSync, copyFileSync, existsSync, mkdirSync, realpathSync, renameSync, rmSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { ShedError } from "../../api/errors.ts";
import { writeFileAtomic } from "../../fs/atomic-file.ts";
import { serverYamlTemplate } from "./server-yaml.ts";
import { LAUNCHD_LABEL, launchdPlist, SYSTEMD_UNIT, systemdUnit } from "./service-files.ts";

/**
 * `shed-server install`: the running executable to /usr/local/bin, a service definition
 * (systemd unit, or a launchd daemon on macOS), and a commented server.yaml when there is none.
 * `root` is where the target system's `/` is (a staging dir in tests); the files written
 * name paths as seen from inside it.
 */
export interface InstallOptions {
  root: string;
  /** server.yaml on the target (default /etc/shed/server.yaml). */
  config?: string;
  platform?: NodeJS.Platform;
  /** The shed-server executable to install. */
  executable: string;
  /** What detection finds here, for the config's comment. */
  detected: () => Promise<string>;
  hostname: string;
  uid?: number;
}

export interface InstallResult {
  files: { path: string; what: string }[];
  /** How to start, stop and read the logs of the service. */
  next: string[];
}

const BINARY = "/usr/local/bin/shed-server";
const DEFAULT_CONFIG = "/etc/shed/server.yaml";
const MAC_LOG = "/var/log/shed-server.log";

interface Layout {
  service: string;
  kind: string;
  start: string;
  stop: string;
  logs: string;
}

function layout(platform: NodeJS.Platform): Layout {
  if (platform === "darwin") {
    const plist = `/Library/LaunchDaemons/${LAUNCHD_LABEL}.plist`;
    return {
      service: plist,
      kind: "launchd daemon",
      start: `sudo launchctl bootstrap system ${plist}`,
      stop: `sudo launchctl bootout system/${LAUNCHD_LABEL}`,
      logs: `tail -f ${MAC_LOG}`,
    };
  }
  return {
    service: `/etc/systemd/system/${SYSTEMD_UNIT}`,
    kind: "systemd unit",
    start: "systemctl daemon-reload && systemctl enable --now shed-server",
    stop: "systemctl stop shed-server",
    logs: "journalctl -u shed-server -f",
  };
}

function needRoot(root: string, uid: number | undefined, what: string): void {
  if (root === "/" && uid !== 0) {
    throw new ShedError("FORBIDDEN", `${what} needs root: run it with sudo (or give --root DIR to write into a staging directory)`);
  }
}

export async function installService(o: InstallOptions): Promise<InstallResult> {
  const platform = o.platform ?? process.platform;
  const l = layout(platform);
  const config = o.config ?? DEFAULT_CONFIG;
  if (!isAbsolute(config)) throw new ShedError("INVALID_REQUEST", `--config must be an absolute path (got ${config})`);
  needRoot(o.root, o.uid, `installing shed-server (it writes ${l.service}, ${BINARY} and ${config})`);
  const at = (p: string) => join(o.root, p);
  const files: InstallResult["files"] = [];

  const binary = at(BINARY);
  if (existsSync(binary) && realpathSync(binary) === realpathSync(o.executable)) {
    files.push({ path: binary, what: "already this executable" });
  } else {
    mkdirSync(dirname(binary), { recursive: true });
    // Copy beside, then rename: replacing a running binary in place fails (text file busy).
    const tmp = `${binary}.${process.pid}.tmp`;
    copyFileSync(o.executable, tmp);
    chmodSync(tmp, 0o755);
    renameSync(tmp, binary);
    files.push({ path: binary, what: `copied from ${o.executable}` });
  }

  if (existsSync(at(config))) {
    files.push({ path: at(config), what: "kept (already there)" });
  } else {
    mkdirSync(dirname(at(config)), { recursive: true, mode: 0o755 });
    const text = serverYamlTemplate({
      name: o.hostname,
      stateDir: "/var/lib/shed",
      detected: await o.detected(),
      date: new Date().toISOString().slice(0, 10),
    });
    writeFileAtomic(at(config), text, 0o644);
    files.push({ path: at(config), what: "written (commented defaults: edit it, then restart)" });
  }

  const spec = { binary: BINARY, config, logFile: MAC_LOG };
  mkdirSync(dirname(at(l.service)), { recursive: true });
  writeFileAtomic(at(l.service), platform === "darwin" ? launchdPlist(spec) : systemdUnit(spec), 0o644);
  files.push({ path: at(l.service), what: `${l.kind} written` });

  return {
    files,
    next: [
      `start it:        ${l.start}`,
      `stop it:         ${l.stop}   (sheds keep running; the next start re-adopts them)`,
      `read its logs:   ${l.logs}`,
      `check the host:  ${BINARY} doctor --config ${config}`,
    ],
  };
}

/** Removes the service definition and the installed binary; keeps server.yaml and the state dir. */
export function uninstallService(o: { root: string; platform?: NodeJS.Platform; uid?: number }): InstallResult {
  const platform = o.platform ?? process.platform;
  const l = layout(platform);
  needRoot(o.root, o.uid, `uninstalling shed-server (it removes ${l.service} and ${BINARY})`);
  const files: InstallResult["files"] = [];
  for (const path of [l.service, BINARY].map((p) => join(o.root, p))) {
    files.push({ path, what: existsSync(path) ? "removed" : "not there" });
    rmSync(path, { force: true });
  }
  return {
    files,
    next: [
      `if it still runs: ${l.stop}${platform === "darwin" ? "" : " && systemctl daemon-reload"}`,
      `kept: ${DEFAULT_CONFIG} (or your --config) and the state dir (/var/lib/shed): remove them by hand to forget every shed`,
    ],
  };
}
