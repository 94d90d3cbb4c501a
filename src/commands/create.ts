import { resolve } from "node:path";
import { defineCommand } from "citty";
import * as v from "valibot";
import { ShedError } from "../api/errors.ts";
import { type BackendName, ShedNameSchema } from "../api/schemas/shed.ts";
import { cli } from "./context.ts";
import { parseEnvPairs } from "./env-args.ts";
import { loadSyncFile, selectFeatures, syncFilePath } from "./sync/sync-file.ts";
import { type FeaturePlan, planSync, syncShed } from "./sync/sync-run.ts";

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
    repo: { type: "string", alias: "r", description: "Clone this repository into /workspace: owner/repo (GitHub) or a git URL" },
    "local-dir": { type: "string", description: "A directory (on the server's host) that is the shed's /workspace (not with --repo)" },
    "add-dir": { type: "string", description: "More directories: SRC[:DST][:ro] (repeatable)" },
    // citty reads --no-provision as provision=false.
    provision: { type: "boolean", default: true, description: "Run the .shed/provision.yaml hooks (--no-provision skips them)" },
    sync: { type: "boolean", default: true, description: "Sync the sync.yaml profile after create (--no-sync skips it)" },
    "sync-profile": { type: "string", description: 'The sync.yaml profile to sync after create (default: "default", if it exists)' },
    timeout: { type: "string", description: "How long the create may take, e.g. 30s, 5m, 2h (default 10m)" },
  },
  async run({ args }) {
    const { out } = cli();
    const name = v.safeParse(ShedNameSchema, args.name);
    if (!name.success) {
      throw new ShedError("INVALID_NAME", `invalid shed name "${args.name}": ${name.issues[0]?.message}`);
    }
    if (args.repo !== undefined && args["local-dir"] !== undefined) {
      throw new ShedError("USAGE", "--repo and --local-dir cannot be used together: the local directory already is /workspace");
    }
    // Sync settings are read before anything is made, so a broken sync.yaml stops nothing half-way.
    const sync = args.sync === false ? undefined : autoSyncPlan(args["sync-profile"]);
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
      repo: args.repo,
      noProvision: args.provision === false || undefined,
      timeoutSeconds: args.timeout === undefined ? undefined : parseDuration("--timeout", args.timeout),
    };
    const shed = await cli().client().createShed(req, out.progress);
    if (sync && shed.state === "running") {
      // Seed 004: sync is the client's last step and, like every step after the boot, only warns.
      const warnings = await syncShed(cli().client().endpoint, shed.name, sync, out.progress).catch((err: Error) => [`sync: ${err.message}`]);
      if (warnings.length) shed.warnings = [...(shed.warnings ?? []), ...warnings];
    }
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

/** The features to sync after create: the named profile (must exist), else "default" when there is one. */
function autoSyncPlan(profile: string | undefined): FeaturePlan[] | undefined {
  const path = syncFilePath();
  const file = loadSyncFile(path);
  if (!file) {
    if (profile) throw new ShedError("NOT_FOUND", `--sync-profile ${profile}: there is no ${path}`);
    return undefined;
  }
  if (!profile && !file.profiles.default) return undefined;
  return planSync(selectFeatures(file, path, { profile: profile ?? "default" }));
}

/** 30s, 5m, 2h, 1h30m or plain seconds. */
export function parseDuration(flag: string, value: string): number {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(value.trim());
  const seconds = /^\d+$/.test(value.trim())
    ? Number(value.trim())
    : m && value.trim()
      ? Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0)
      : Number.NaN;
  if (!(seconds > 0)) throw new ShedError("USAGE", `${flag} takes a duration like 30s, 5m or 2h, got "${value}"`);
  return seconds;
}

/** SRC[:DST][:ro] with SRC made absolute. */
function absoluteSource(spec: string): string {
  const [src = "", ...rest] = spec.split(":");
  return [resolve(src), ...rest].join(":");
}
