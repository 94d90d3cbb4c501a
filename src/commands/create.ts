import { resolve } from "node:path";
import { defineCommand } from "citty";
import * as v from "valibot";
import { ShedError } from "../api/errors.ts";
import { type BackendName, ShedNameSchema } from "../api/schemas/shed.ts";
import { cli } from "./context.ts";
import { parseEnvPairs } from "./env-args.ts";

export default defineCommand({
  meta: { name: "create", description: "Create a shed and wait until it is ready" },
  args: {
    name: { type: "positional", description: "Shed name (lowercase letters, digits, hyphens)", required: true },
    image: { type: "string", description: "Image ref or alias (default: the backend's default_image)" },
    backend: { type: "string", description: "docker, qemu, firecracker or vz (default: the server's)" },
    cpus: { type: "string", description: "CPUs (may be fractional on docker)" },
    memory: { type: "string", description: "Memory in MB" },
    env: { type: "string", alias: "e", description: "K=V set in the shed (repeatable)" },
    "upper-size": { type: "string", description: "VM backends: size of the shed's writable disk (1G-100G, default 5G)" },
    "local-dir": { type: "string", description: "A directory (on the server's host) that is the shed's /workspace" },
    "add-dir": { type: "string", description: "More directories: SRC[:DST][:ro] (repeatable)" },
    // citty reads --no-provision as provision=false.
    provision: { type: "boolean", default: true, description: "Run the .shed/provision.yaml hooks (--no-provision skips them)" },
  },
  async run({ args }) {
    const { out } = cli();
    const name = v.safeParse(ShedNameSchema, args.name);
    if (!name.success) {
      throw new ShedError("INVALID_NAME", `invalid shed name "${args.name}": ${name.issues[0]?.message}`);
    }
    const req = {
      name: args.name,
      image: args.image,
      backend: args.backend as BackendName | undefined,
      cpus: args.cpus === undefined ? undefined : numberArg("--cpus", args.cpus),
      memoryMb: args.memory === undefined ? undefined : numberArg("--memory", args.memory),
      env: args.env === undefined ? undefined : parseEnvPairs(args.env),
      upperSize: args["upper-size"],
      // Paths are the server's; relative ones are taken from here (the usual case: same machine).
      localDir: args["local-dir"] === undefined ? undefined : resolve(args["local-dir"]),
      addDirs: args["add-dir"] === undefined ? undefined : [args["add-dir"]].flat().map(absoluteSource),
      noProvision: args.provision === false || undefined,
    };
    const shed = await cli().client().createShed(req, out.progress);
    for (const w of shed.warnings ?? []) out.warn(w);
    await out.result(
      shed,
      `Created shed ${shed.name} (${shed.backend}, ${shed.image}).\n` +
        `Run a command: shed exec ${shed.name} -- uname -a\nOpen a shell:  shed console ${shed.name}`,
    );
  },
});

export function numberArg(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n)) throw new ShedError("USAGE", `${flag} takes a number, got "${value}"`);
  return n;
}

/** SRC[:DST][:ro] with SRC made absolute. */
function absoluteSource(spec: string): string {
  const [src = "", ...rest] = spec.split(":");
  return [resolve(src), ...rest].join(":");
}
