import { defineCommand } from "../../cli/command.ts";
import { fetchHostKey } from "../../api/host-key.ts";
import { ApiClient } from "../../api/client.ts";
import { SERVER_API } from "../../api/endpoints/server.ts";
import { SHED_API } from "../../api/endpoints/sheds.ts";
import { ShedError } from "../../api/errors.ts";
import { clientConfigPath, loadClientConfig, saveClientConfig } from "../../cli/client-config.ts";
import { cli } from "../../cli/context.ts";
import { portArg } from "../../cli/values.ts";

export default defineCommand({
  meta: {
    name: "add",
    description: "Add a server (checks that it answers first, and pins its SSH host key)",
    details: "The token can come from SHED_TOKEN instead of --token, so it is never on a command line.",
    examples: ["shed server add my-server.local --name home", "SHED_TOKEN=... shed server add 10.0.0.5 --http-port 9090 --default"],
  },
  args: {
    host: { type: "positional", description: "Host name or address of the server", required: true },
    name: { type: "string", valueHint: "NAME", description: "Name to refer to it by (default: the host)" },
    "http-port": { type: "string", valueHint: "PORT", description: "HTTP API port (default 8080)" },
    "ssh-port": { type: "string", valueHint: "PORT", description: "SSH port (default: what the server reports, else 2222)" },
    token: { type: "string", valueHint: "TOKEN", description: "API token, when the server uses auth.mode token (or SHED_TOKEN)" },
    default: { type: "boolean", description: "Make it the default server" },
  },
  async run({ args }) {
    const { out } = cli();
    const name = args.name ?? args.host;
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
      throw new ShedError("USAGE", `invalid server name "${name}": use letters, digits, dots, hyphens, underscores`);
    }
    const httpPort = args["http-port"] ? portArg("--http-port", args["http-port"]) : 8080;
    const token = args.token ?? process.env.SHED_TOKEN;
    const client = new ApiClient({ name, host: args.host, httpPort, sshPort: 2222, token }, cli().globals.timeoutMs);
    const info = await client.call(SERVER_API.getInfo);
    // /api/info is public: check the token against an endpoint that needs it.
    await client.call(SHED_API.listSheds);
    const sshPort = args["ssh-port"] ? portArg("--ssh-port", args["ssh-port"]) : info.sshPort || 2222;
    const hostKey = await fetchHostKey(client);

    const config = loadClientConfig();
    config.servers[name] = {
      host: args.host,
      http_port: httpPort,
      ssh_port: sshPort,
      ...(token ? { token } : {}),
      ...(hostKey ? { host_key: hostKey } : {}),
    };
    if (args.default || !config.default_server || !config.servers[config.default_server]) config.default_server = name;
    saveClientConfig(config);
    await out.result(
      { name, host: args.host, httpPort, sshPort, server: info.name, version: info.version, default: config.default_server === name },
      `Added server ${name} (${info.name}, shed-server ${info.version}) to ${clientConfigPath()}.`,
    );
  },
});
