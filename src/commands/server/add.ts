import { defineCommand } from "../../cli/command.ts";
import { runBootstrap } from "../../api/bootstrap-client.ts";
import { ApiClient } from "../../api/client.ts";
import { SERVER_API } from "../../api/endpoints/server.ts";
import { SHED_API } from "../../api/endpoints/sheds.ts";
import { ShedError } from "../../api/errors.ts";
import { fetchHostKey } from "../../api/host-key.ts";
import { clientConfigPath, loadClientConfig, type ServerEntry, saveClientConfig, securityOf } from "../../cli/client-config.ts";
import { cli } from "../../cli/context.ts";
import { canAsk, checkEntry, entryFromAnswer, hostKeyVerifier } from "../../cli/server-bootstrap.ts";
import { portArg } from "../../cli/values.ts";

export default defineCommand({
  meta: {
    name: "add",
    description: "Add a server: over SSH, pinning its host key and TLS certificate and getting a token",
    details:
      "Connects to the server's SSH door with your ssh-agent or default keys (your key must be in its ssh authorized_keys), " +
      "confirms the host key (asked on a terminal; otherwise --fingerprint or --trust-on-first-use), and runs the bootstrap: " +
      "the HTTPS certificate is pinned and a token (or, in mtls, a client certificate) is stored 0600 in the client config. " +
      "The API is tried with them before anything is saved. --http-port adds an open (plain HTTP) server without SSH.",
    examples: [
      "shed server add my-server.local --name home",
      "shed server add 10.0.0.5 --fingerprint SHA256:Qm9v... --default",
      "shed server add 127.0.0.1 --http-port 8080 --name local",
    ],
  },
  args: {
    host: { type: "positional", description: "Host name or address of the server", required: true },
    name: { type: "string", valueHint: "NAME", description: "Name to refer to it by (default: the host)" },
    "ssh-port": { type: "string", valueHint: "PORT", description: "The SSH door's port (default 2222)" },
    fingerprint: { type: "string", valueHint: "SHA256:...", description: "The SSH host key fingerprint to expect (ssh-keygen -lf on the server)" },
    "trust-on-first-use": { type: "boolean", description: "Accept the SSH host key this first time without checking it" },
    "http-port": { type: "string", valueHint: "PORT", description: "Add an open (plain HTTP) server at this port, without SSH" },
    default: { type: "boolean", description: "Make it the default server" },
  },
  async run({ args }) {
    const { out, globals } = cli();
    const name = args.name ?? args.host;
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
      throw new ShedError("USAGE", `invalid server name "${name}": use letters, digits, dots, hyphens, underscores`);
    }
    if (args.fingerprint && !/^SHA256:[A-Za-z0-9+/]{43}=?$/.test(args.fingerprint)) {
      throw new ShedError("USAGE", `--fingerprint ${args.fingerprint}: expected SHA256: and 43 base64 characters, as ssh-keygen -lf prints it`);
    }
    let entry: ServerEntry;
    let serverName: string;
    let version: string;
    if (args["http-port"]) {
      ({ entry, serverName, version } = await addOpen(name, args.host, portArg("--http-port", args["http-port"]), args["ssh-port"], globals.timeoutMs));
    } else {
      const interactive = canAsk(out.json);
      if (!args.fingerprint && !args["trust-on-first-use"] && !interactive) {
        throw new ShedError("USAGE", "no terminal to confirm the server's SSH host key on: give --fingerprint SHA256:... (ssh-keygen -lf <state_dir>/ssh_host_ed25519_key on the server) or --trust-on-first-use");
      }
      const sshPort = args["ssh-port"] ? portArg("--ssh-port", args["ssh-port"]) : 2222;
      const { answer, hostKey } = await runBootstrap({
        host: args.host,
        sshPort,
        verifyHostKey: hostKeyVerifier({ fingerprint: args.fingerprint, trustOnFirstUse: args["trust-on-first-use"], interactive, what: `${args.host}:${sshPort}` }),
      });
      entry = entryFromAnswer(args.host, sshPort, hostKey.line, answer);
      const info = await checkEntry(name, entry, globals.timeoutMs);
      serverName = info.name;
      version = info.version;
    }

    const config = loadClientConfig();
    config.servers[name] = entry;
    if (args.default || !config.default_server || !config.servers[config.default_server]) config.default_server = name;
    saveClientConfig(config);
    const security = securityOf(entry);
    await out.result(
      {
        name,
        host: args.host,
        httpPort: entry.http_port,
        sshPort: entry.ssh_port,
        ...(entry.https_port ? { httpsPort: entry.https_port, tlsFingerprint: entry.tls_fingerprint } : {}),
        security,
        server: serverName,
        version,
        default: config.default_server === name,
      },
      `Added server ${name} (${serverName}, shed-server ${version}, ${security}) to ${clientConfigPath()}.`,
    );
  },
});

/** Today's path for an open server: its API over plain HTTP, the SSH host key it serves pinned. */
async function addOpen(name: string, host: string, httpPort: number, sshPortArg: string | undefined, timeoutMs: number) {
  const client = new ApiClient({ name, host, httpPort, sshPort: 2222 }, timeoutMs);
  const info = await client.call(SERVER_API.getInfo).catch((err) => {
    if (err instanceof ShedError && err.code === "HTTPS_REQUIRED") {
      throw new ShedError("USAGE", `${host} serves HTTPS only (auth.mode token or mtls): add it without --http-port, over SSH (shed server add ${host})`);
    }
    throw err;
  });
  if (info.auth !== "open") throw new ShedError("USAGE", `${host} uses auth.mode ${info.auth}: add it without --http-port, over SSH (shed server add ${host})`);
  await client.call(SHED_API.listSheds);
  const sshPort = sshPortArg ? portArg("--ssh-port", sshPortArg) : info.sshPort || 2222;
  const hostKey = await fetchHostKey(client);
  const entry: ServerEntry = { host, http_port: httpPort, ssh_port: sshPort, auth: "open", ...(hostKey ? { host_key: hostKey } : {}) };
  return { entry, serverName: info.name, version: info.version };
}
