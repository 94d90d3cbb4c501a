import { existsSync } from "node:fs";

/** Does the host have this command? For skips that say why. */
export function hasCommand(cmd: string): boolean {
  return Bun.spawnSync(["sh", "-c", `command -v ${cmd}`]).exitCode === 0;
}

export function dockerAvailable(): boolean {
  if (!existsSync("/var/run/docker.sock")) return false;
  return Bun.spawnSync(["docker", "info", "--format", "{{.ServerVersion}}"]).exitCode === 0;
}

/** Reason to skip, printed once, or undefined when everything needed is here. */
export function missing(needs: { docker?: boolean; commands?: string[] }): string | undefined {
  const lacking: string[] = [];
  if (needs.docker && !dockerAvailable()) lacking.push("a running Docker engine (/var/run/docker.sock)");
  for (const c of needs.commands ?? []) if (!hasCommand(c)) lacking.push(`\`${c}\``);
  if (lacking.length === 0) return undefined;
  const reason = `skipped: needs ${lacking.join(", ")}`;
  console.warn(reason);
  return reason;
}

export function sh(cmd: string, opts: { allowFail?: boolean } = {}): string {
  const p = Bun.spawnSync(["bash", "-c", cmd], { stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0 && !opts.allowFail) {
    throw new Error(`command failed (${p.exitCode}): ${cmd}\n${p.stderr.toString()}`);
  }
  return p.stdout.toString();
}
