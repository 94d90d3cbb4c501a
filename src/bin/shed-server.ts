import { defineCommand, runCommand, runMain } from "citty";
import { toShedError } from "../api/errors.ts";
import { jsonLineLogger } from "../log/logger.ts";
import { loadServerConfig } from "../server/config/load.ts";
import { doctorCommand } from "../server/doctor/command.ts";
import { installCommand, uninstallCommand } from "../server/install/command.ts";
import { startServer } from "../server/serve.ts";
import { setupCommand } from "../server/setup/command.ts";
import { tokenCommand } from "../server/auth/command.ts";
import { VERSION } from "../version.ts";

const configArg = { type: "string", description: "Path of server.yaml (default: search ./, ~/.config/shed/, /etc/shed/)" } as const;

const serve = defineCommand({
  meta: { name: "serve", description: "Run the server (HTTP API and SSH door)" },
  args: {
    config: configArg,
    "state-dir": { type: "string", description: "State directory (overrides state_dir)" },
    port: { type: "string", description: "HTTP port (overrides http_port; 0 picks a free one)" },
    "ssh-port": { type: "string", description: "SSH port (overrides ssh_port; 0 picks a free one)" },
    "https-port": { type: "string", description: "HTTPS port in auth.mode token and mtls (overrides https_port; 0 picks a free one)" },
    bind: { type: "string", description: "Address to listen on (overrides bind_address)" },
  },
  async run({ args }) {
    const { config, path, warnings } = loadServerConfig(args.config);
    if (args["state-dir"]) config.state_dir = args["state-dir"];
    if (args.port !== undefined) config.http_port = Number(args.port);
    if (args["ssh-port"] !== undefined) config.ssh_port = Number(args["ssh-port"]);
    if (args["https-port"] !== undefined) config.https_port = Number(args["https-port"]);
    if (args.bind) config.bind_address = args.bind;
    const logger = jsonLineLogger(config.log_level);
    logger.info("starting", { version: VERSION, config: path ?? "(defaults)" });
    for (const w of warnings) logger.warn("deprecated config key", { detail: w });
    const server = await startServer(config, logger);
    // A line a script can wait for (tests, the quickstart), with the ports actually bound.
    process.stdout.write(`${JSON.stringify({ listening: server.url, httpPort: server.ctx.httpPort, sshPort: server.ctx.sshPort, httpsPort: server.ctx.httpsPort })}\n`);
    const shutdown = async (signal: string) => {
      logger.info("stopping", { signal });
      await server.close();
      process.exit(0);
    };
    process.on("SIGTERM", () => void shutdown("SIGTERM"));
    process.on("SIGINT", () => void shutdown("SIGINT"));
    await new Promise(() => {});
  },
});

const configValidate = defineCommand({
  meta: { name: "config-validate", description: "Check server.yaml and print the effective config" },
  args: { config: configArg },
  run({ args }) {
    const { config, path, warnings } = loadServerConfig(args.config);
    for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
    process.stdout.write(`${path ?? "(no config file: defaults)"}: ok\n`);
    process.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
  },
});

const main = defineCommand({
  meta: { name: "shed-server", version: VERSION, description: "shed's server daemon" },
  subCommands: {
    serve,
    "config-validate": configValidate,
    doctor: doctorCommand,
    setup: setupCommand,
    token: tokenCommand,
    install: installCommand,
    uninstall: uninstallCommand,
    version: defineCommand({ meta: { name: "version" }, run: () => void process.stdout.write(`shed-server ${VERSION}\n`) }),
  },
});

/**
 * A fatal error is one line on stderr (what, where, what to do) and a non-zero exit: no stack,
 * no bundle source. Usage mistakes exit 2, everything else 1.
 */
function fatal(err: unknown): never {
  const usage = (err instanceof Error && err.name === "CLIError") || toShedError(err).code === "USAGE";
  const e = toShedError(err);
  const message = e.message.replace(/\x1b\[[0-9;]*m/g, "").split("\n")[0]!.slice(0, 500);
  process.stderr.write(usage ? `shed-server: ${message} (see shed-server --help)\n` : `shed-server: ${message} (${e.code})\n`);
  process.exit(usage ? 2 : 1);
}

const argv = process.argv.slice(2);
if (argv[0] === "--version" || argv[0] === "-V") {
  process.stdout.write(`shed-server ${VERSION}\n`);
} else if (argv.some((a) => a === "--help" || a === "-h")) {
  await runMain(main, { rawArgs: argv });
} else {
  try {
    await runCommand(main, { rawArgs: argv });
  } catch (err) {
    fatal(err);
  }
}
