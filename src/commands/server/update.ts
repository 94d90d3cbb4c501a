import { defineCommand } from "../../cli/command.ts";
import { runBootstrap } from "../../api/bootstrap-client.ts";
import { ShedError } from "../../api/errors.ts";
import { loadClientConfig, saveClientConfig, securityOf } from "../../cli/client-config.ts";
import { cli } from "../../cli/context.ts";
import { canAsk, checkEntry, entryFromAnswer, hostKeyVerifier } from "../../cli/server-bootstrap.ts";
import { portArg } from "../../cli/values.ts";

export default defineCommand({
  meta: {
    name: "update",
    description: "Re-run the SSH bootstrap for a server: a new token or client certificate, and its current TLS certificate pinned",
    details:
      "The SSH host key must still be the pinned one; if it changed (a rotation), you are asked before it is re-pinned " +
      "(without a terminal: --fingerprint SHA256:... or --trust-on-first-use). The API is tried before anything is saved.",
    examples: ["shed server update home --refetch", "shed server update home --refetch --fingerprint SHA256:Qm9v..."],
  },
  args: {
    name: { type: "positional", description: "Server name", required: true, complete: "server" },
    refetch: { type: "boolean", description: "Run the bootstrap again (required: it is what update does)" },
    "ssh-port": { type: "string", valueHint: "PORT", description: "The SSH door's port, if it moved" },
    fingerprint: { type: "string", valueHint: "SHA256:...", description: "The new SSH host key fingerprint, after a rotation" },
    "trust-on-first-use": { type: "boolean", description: "Accept a changed SSH host key without checking it" },
  },
  async run({ args }) {
    const { out, globals } = cli();
    if (!args.refetch) throw new ShedError("USAGE", "say --refetch to run the bootstrap again (shed server update NAME --refetch)");
    const config = loadClientConfig();
    const old = config.servers[args.name];
    if (!old) throw new ShedError("NOT_FOUND", `no server named "${args.name}" (see shed server list)`);
    const sshPort = args["ssh-port"] ? portArg("--ssh-port", args["ssh-port"]) : old.ssh_port;
    const { answer, hostKey } = await runBootstrap({
      host: old.host,
      sshPort,
      verifyHostKey: hostKeyVerifier({
        pinned: old.host_key,
        fingerprint: args.fingerprint,
        trustOnFirstUse: args["trust-on-first-use"],
        interactive: canAsk(out.json),
        what: `server "${args.name}" (${old.host}:${sshPort})`,
      }),
    });
    const entry = entryFromAnswer(old.host, sshPort, hostKey.line, answer, old);
    const info = await checkEntry(args.name, entry, globals.timeoutMs);
    const latest = loadClientConfig();
    latest.servers[args.name] = entry;
    saveClientConfig(latest);
    const changed = old.tls_fingerprint && old.tls_fingerprint !== entry.tls_fingerprint;
    await out.result(
      { name: args.name, security: securityOf(entry), tlsFingerprint: entry.tls_fingerprint, tlsChanged: Boolean(changed), hostKeyChanged: old.host_key !== entry.host_key, version: info.version },
      `Updated server ${args.name} (${securityOf(entry)}${changed ? `; TLS certificate re-pinned: ${entry.tls_fingerprint}` : ""}).`,
    );
  },
});
