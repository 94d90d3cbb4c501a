/**
 * The service definitions `shed-server install` writes: a systemd unit on Linux, a launchd
 * daemon on macOS. Pure text, unit-tested (the unit also by `systemd-analyze verify`).
 */
export interface ServiceSpec {
  /** The installed executable, as seen on the target system. */
  binary: string;
  config: string;
  /** macOS: where stdout and stderr (the JSON log lines) go. */
  logFile?: string;
}

export const SYSTEMD_UNIT = "shed-server.service";
export const LAUNCHD_LABEL = "dev.shed.server";

export function systemdUnit(s: ServiceSpec): string {
  return `# Written by \`shed-server install\`; \`shed-server uninstall\` removes it.
[Unit]
Description=shed server: persistent development environments (HTTP API, SSH door)
Wants=network-online.target
After=network-online.target docker.service

[Service]
Type=simple
ExecStart=${s.binary} serve --config ${s.config}
Restart=on-failure
RestartSec=2
# VMs run detached from the server (QEMU daemonizes) and are re-adopted on the next start:
# a restart or stop of the service must end only the server, never the sheds.
KillMode=process
TimeoutStopSec=30
LimitNOFILE=65536

[Install]
WantedBy=multi-user.target
`;
}

/** A launchd daemon (/Library/LaunchDaemons): started at boot, restarted when it exits. */
export function launchdPlist(s: ServiceSpec): string {
  const esc = (t: string) => t.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
  const log = esc(s.logFile ?? "/var/log/shed-server.log");
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- Written by shed-server install; shed-server uninstall removes it. -->
<plist version="1.0">
<dict>
  <key>Label</key>
  <string>${LAUNCHD_LABEL}</string>
  <key>ProgramArguments</key>
  <array>
    <string>${esc(s.binary)}</string>
    <string>serve</string>
    <string>--config</string>
    <string>${esc(s.config)}</string>
  </array>
  <key>RunAtLoad</key>
  <true/>
  <key>KeepAlive</key>
  <dict>
    <key>SuccessfulExit</key>
    <false/>
  </dict>
  <key>AbandonProcessGroup</key>
  <true/>
  <key>StandardOutPath</key>
  <string>${log}</string>
  <key>StandardErrorPath</key>
  <string>${log}</string>
</dict>
</plist>
`;
}
