import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { SHED_API } from "../api/endpoints/sheds.ts";
import { trustedHostKey } from "../api/host-key.ts";
import { acrossServers } from "../cli/across-servers.ts";
import { clientConfigDir } from "../cli/client-config.ts";
import { defineCommand } from "../cli/command.ts";
import { cli } from "../cli/context.ts";
import { usageError } from "../cli/values.ts";
import { writeFileAtomic } from "../fs/atomic-file.ts";

const BEGIN = "# >>> shed ssh-config (managed by `shed ssh-config --install`; edits inside are replaced) >>>";
const END = "# <<< shed ssh-config <<<";

/**
 * `shed ssh-config [NAME] [--all]`: `~/.ssh/config` entries for the sheds, so plain `ssh`,
 * VS Code and Cursor (Remote-SSH) reach them through the SSH door. Host keys are pinned in
 * a known_hosts file beside the client config, which this (re)writes. `--install` keeps them
 * in one marked block of ~/.ssh/config (the rest of the file is never touched).
 */
export default defineCommand({
  meta: {
    name: "ssh-config",
    description: "Print ~/.ssh/config entries for sheds, or keep them in a marked block there (--install)",
    details:
      "--install writes the entries between two marker lines in ~/.ssh/config, replacing only what is between them, " +
      "and keeps the file as it was in ~/.ssh/config.shed-backup; running it again changes nothing when nothing changed. " +
      "--uninstall removes the block.",
    examples: ["shed ssh-config", "shed ssh-config --install --dry-run", "shed ssh-config --install", "shed ssh-config --uninstall"],
  },
  args: {
    name: { type: "positional", description: "Only this shed", complete: "shed" },
    all: { type: "boolean", alias: "a", description: "Sheds of every configured server" },
    install: { type: "boolean", description: "Write the entries into the shed block of ~/.ssh/config" },
    uninstall: { type: "boolean", description: "Remove the shed block from ~/.ssh/config" },
    "dry-run": { type: "boolean", description: "With --install or --uninstall: print the new ~/.ssh/config, change nothing" },
    file: { type: "string", valueHint: "FILE", description: "The ssh config to manage (default ~/.ssh/config)", complete: "file" },
  },
  async run({ args }) {
    const { out } = cli();
    if (args.install && args.uninstall) throw usageError("shed ssh-config: --install or --uninstall, not both");
    if (args["dry-run"] && !args.install && !args.uninstall) throw usageError("shed ssh-config: --dry-run goes with --install or --uninstall");
    const sshConfig = args.file ?? join(homedir(), ".ssh", "config");
    if (args.uninstall) return manage(sshConfig, undefined, Boolean(args["dry-run"]));

    const knownHosts = join(clientConfigDir(), "known_hosts");
    const servers = await acrossServers(args.all, async (client) => {
      const e = client.endpoint;
      const hostLine = `[${e.host}]:${e.sshPort} ${await trustedHostKey(client)}`;
      const sheds = args.name ? [args.name] : (await client.call(SHED_API.listSheds)).sheds.map((s) => s.name);
      return [{ hostLine, entries: sheds.map((shed) => ({ alias: "", shed, server: e.name, host: e.host, port: e.sshPort })) }];
    });
    const hostLines = servers.map((s) => s.hostLine);
    const entries = servers.flatMap((s) => s.entries);
    // shed-NAME, or shed-SERVER-NAME where two servers have a shed of that name.
    for (const entry of entries) {
      const clash = entries.filter((x) => x.shed === entry.shed).length > 1;
      entry.alias = clash ? `shed-${entry.server}-${entry.shed}` : `shed-${entry.shed}`;
    }
    if (!args["dry-run"]) {
      mkdirSync(clientConfigDir(), { recursive: true });
      writeFileAtomic(knownHosts, hostLines.length ? `${hostLines.join("\n")}\n` : "");
    }
    const text = entries
      .map((x) =>
        [
          `Host ${x.alias}`,
          `  HostName ${x.host}`,
          `  Port ${x.port}`,
          `  User ${x.shed}`,
          `  UserKnownHostsFile ${knownHosts}`,
          "  StrictHostKeyChecking yes",
          "  ServerAliveInterval 30",
        ].join("\n"),
      )
      .join("\n\n");
    if (args.install) return manage(sshConfig, text, Boolean(args["dry-run"]), { entries, knownHosts });
    await out.result({ entries, knownHosts }, text ? `${text}\n` : "# no sheds");
  },
});

/** Replaces (or removes, with `block` undefined) the marked block; the rest of the file stays byte for byte. */
async function manage(path: string, block: string | undefined, dryRun: boolean, extra: object = {}): Promise<void> {
  const { out } = cli();
  const before = existsSync(path) ? readFileSync(path, "utf8") : "";
  const after = withBlock(before, block);
  if (dryRun) {
    await out.result({ file: path, changed: after !== before, content: after, ...extra }, after);
    return;
  }
  if (after !== before) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    if (existsSync(path)) copyFileSync(path, `${path}.shed-backup`);
    writeFileAtomic(path, after, 0o600);
  }
  const what = block === undefined ? "Removed the shed block from" : "Wrote the shed block in";
  await out.result(
    { file: path, changed: after !== before, ...(after !== before && before ? { backup: `${path}.shed-backup` } : {}), ...extra },
    after === before ? `${path} is already up to date.` : `${what} ${path}${before ? ` (the old file is in ${path}.shed-backup)` : ""}.`,
  );
}

export function withBlock(text: string, block: string | undefined): string {
  const start = text.indexOf(BEGIN);
  const end = start >= 0 ? text.indexOf(END, start) : -1;
  if (start >= 0 && end < 0) throw usageError(`the shed block in the ssh config has a start marker and no end marker (${END}); fix it by hand`);
  const body = block === undefined ? "" : `${BEGIN}\n${block ? `${block}\n` : ""}${END}\n`;
  if (start >= 0) {
    let after = text.slice(end + END.length).replace(/^\n/, "");
    // The blank line put after a block at the top goes with it.
    if (block === undefined && start === 0) after = after.replace(/^\n/, "");
    return text.slice(0, start) + body + after;
  }
  if (block === undefined) return text;
  // A new block goes first: ssh takes the first value it finds, and Host blocks after a Match would not apply.
  return body + (text ? `\n${text}` : "");
}
