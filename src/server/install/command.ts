import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { defineCommand } from "citty";
import { ShedError } from "../../api/errors.ts";
import { detectionOrder, pickBackend } from "../../backends/detect.ts";
import { probeWithDefaults } from "../backends.ts";
import { type InstallResult, installService, uninstallService } from "./install.ts";

const rootArg = { type: "string", description: "Write into this directory as the target's / (a staging dir; default /)" } as const;

/** What `default_backend: detect` finds with the default config, for the new server.yaml's comment. */
async function detectWithDefaults(root: string): Promise<string> {
  return pickBackend(detectionOrder(), await probeWithDefaults(join(root, "var/lib/shed"))).reason;
}

/** Prints what was done (errors go to shed-server's one-line fatal handler). */
async function report(title: string, work: () => Promise<InstallResult> | InstallResult): Promise<void> {
  const r = await work();
  const lines = [title, ...r.files.map((f) => `  ${f.path}: ${f.what}`), ...r.next];
  process.stdout.write(`${lines.join("\n")}\n`);
}

/** The compiled shed-server (not `bun src/bin/shed-server.ts`): what the service runs. */
function executable(): string {
  if (!Bun.main.startsWith("/$bunfs/")) {
    throw new ShedError("INVALID_REQUEST", "install the compiled shed-server (make build, then dist/shed-server install), not the source entry point");
  }
  return process.execPath;
}

export const installCommand = defineCommand({
  meta: { name: "install", description: "Install shed-server as a service (systemd; launchd on macOS) with a commented server.yaml" },
  args: {
    config: { type: "string", description: "server.yaml the service reads (default /etc/shed/server.yaml; written when absent)" },
    root: rootArg,
  },
  run({ args }) {
    const root = resolve(args.root ?? "/");
    return report("shed-server installed:", () =>
      installService({
        root,
        config: args.config,
        executable: executable(),
        detected: () => detectWithDefaults(root),
        hostname: hostname().split(".")[0] || "shed-server",
        uid: process.getuid?.(),
      }),
    );
  },
});

export const uninstallCommand = defineCommand({
  meta: { name: "uninstall", description: "Remove the shed-server service and binary (server.yaml and the state dir stay)" },
  args: { root: rootArg },
  run({ args }) {
    return report("shed-server uninstalled:", () => uninstallService({ root: resolve(args.root ?? "/"), uid: process.getuid?.() }));
  },
});
