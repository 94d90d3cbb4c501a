import { defineCommand } from "../../cli/command.ts";
import { ApiClient } from "../../api/client.ts";
import { SHED_API } from "../../api/endpoints/sheds.ts";
import { ShedError } from "../../api/errors.ts";
import { endpointFromEntry, loadClientConfig, type ServerEntry, securityOf } from "../../cli/client-config.ts";
import { cli } from "../../cli/context.ts";
import { LIST_ARGS } from "../../cli/list-args.ts";
import { renderTable } from "../../cli/table.ts";

/** How long `server list` waits for each server (they are asked in parallel). */
const PROBE_MS = 3000;

export default defineCommand({
  meta: {
    name: "list",
    aliases: ["ls"],
    description: "List configured servers: where, how secured, and whether they answer",
    details: "SECURITY: token or mtls (HTTPS with a pinned certificate), open (plain HTTP, SSH host key pinned), unpinned (nothing pinned).",
    examples: ["shed server list", "shed server list -q"],
  },
  args: { ...LIST_ARGS, "no-probe": { type: "boolean", description: "Do not contact the servers (STATUS is left out)" } },
  async run({ args }) {
    const config = loadClientConfig();
    const servers = await Promise.all(
      Object.entries(config.servers).map(async ([name, s]) => ({
        name,
        host: s.host,
        endpoint: endpointOf(s),
        httpPort: s.http_port,
        sshPort: s.ssh_port,
        ...(s.https_port ? { httpsPort: s.https_port } : {}),
        security: securityOf(s),
        ...(s.token_expires_at ? { tokenExpiresAt: s.token_expires_at } : {}),
        ...(args["no-probe"] || args.quiet ? {} : { status: await probe(name, s) }),
        default: config.default_server === name,
      })),
    );
    await cli().out.list({ servers, default: config.default_server }, servers, {
      quiet: args.quiet,
      format: args.format,
      quietKey: (s) => s.name,
      table: () => {
        if (servers.length === 0) return "No servers configured; the local server (127.0.0.1:8080) is used. Add one with: shed server add <host>";
        return renderTable(
          servers.map((s) => ({ ...s, default: s.default ? "*" : "", sshPort: String(s.sshPort), status: s.status ?? "" })),
          [
            { key: "default", name: "DEFAULT" },
            { key: "name", name: "NAME" },
            { key: "endpoint", name: "ENDPOINT" },
            { key: "sshPort", name: "SSH" },
            { key: "security", name: "SECURITY" },
            ...(args["no-probe"] ? [] : [{ key: "status" as const, name: "STATUS" }]),
          ],
        );
      },
    });
  },
});

function endpointOf(s: ServerEntry): string {
  const host = s.host.includes(":") ? `[${s.host}]` : s.host;
  return s.https_port && s.tls_fingerprint ? `https://${host}:${s.https_port}` : `http://${host}:${s.http_port}`;
}

/** One authenticated call, without refreshing the token (listing must not mint): what a command would meet. */
async function probe(name: string, s: ServerEntry): Promise<string> {
  const { refreshToken: _no, ...endpoint } = endpointFromEntry(name, s);
  try {
    await new ApiClient(endpoint, PROBE_MS).call(SHED_API.listSheds);
    return "ok";
  } catch (err) {
    const code = err instanceof ShedError ? err.code : "INTERNAL";
    const words: Partial<Record<string, string>> = {
      TOKEN_EXPIRED: "token expired (renewed on next use)",
      UNAUTHORIZED: "token refused",
      TLS_PIN_MISMATCH: "CERTIFICATE MISMATCH",
      HTTPS_REQUIRED: "needs HTTPS (re-add)",
      TIMEOUT: "timeout",
    };
    return words[code] ?? "unreachable";
  }
}
