import { basename, resolve } from "node:path";
import { defineCommand } from "citty";
import { toShedError } from "../../api/errors.ts";
import type { SetupStep } from "../../backends/definition.ts";
import { backendDefinitions } from "../../backends/registry.ts";
import { loadServerConfig } from "../config/load.ts";
import { sectionOf } from "../config/schema.ts";
import { knownBackends } from "../../backends/registry.ts";
import { readOrCreateServerId } from "../server-id.ts";
import { mkdirSync } from "node:fs";

/**
 * `shed-server setup [--dry-run] [--config PATH] [--json]`: makes what the enabled backends
 * need on this host and is not there (each backend's `setup`: bridge, forwarding, NAT,
 * directories, capabilities), one line per step; a second run makes nothing.
 */
export const setupCommand = defineCommand({
  meta: { name: "setup", description: "Make what the enabled backends need on this host (bridge, NAT, directories, capabilities); idempotent" },
  args: {
    config: { type: "string", description: "Path of server.yaml (default: search ./, ~/.config/shed/, /etc/shed/)" },
    "dry-run": { type: "boolean", description: "Say what would be made, make nothing" },
    json: { type: "boolean", description: "Print {steps: [{backend, step, status, detail}]}" },
  },
  async run({ args }) {
    try {
      const { config } = loadServerConfig(args.config);
      const stateDir = resolve(config.state_dir);
      const dryRun = !!args["dry-run"];
      if (!dryRun) mkdirSync(stateDir, { recursive: true, mode: 0o700 });
      const enabled = config.enabled_backends ?? knownBackends();
      // A compiled shed-server is its own executable; under bun (development) there is none to give capabilities.
      const serverBinary = basename(process.execPath).startsWith("bun") ? undefined : process.execPath;
      const steps: (SetupStep & { backend: string })[] = [];
      for (const def of backendDefinitions()) {
        if (!def.setup || !enabled.includes(def.name)) continue;
        const serverId = dryRun ? "(dry run)" : readOrCreateServerId(stateDir);
        for (const step of await def.setup({ section: sectionOf(config, def.name), stateDir, serverId, dryRun, serverBinary })) steps.push({ backend: def.name, ...step });
      }
      if (args.json) process.stdout.write(`${JSON.stringify({ dryRun, steps })}\n`);
      else if (!steps.length) process.stdout.write("nothing to set up: no enabled backend needs host setup\n");
      else for (const s of steps) process.stdout.write(`${s.status.padEnd(10)}  ${s.backend}  ${s.step.padEnd(10)}  ${s.detail}\n`);
    } catch (err) {
      const e = toShedError(err);
      process.stderr.write(`Error: ${e.message} (${e.code})\n`);
      process.exitCode = 1;
    }
  },
});
