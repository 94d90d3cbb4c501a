import { resolve } from "node:path";
import * as v from "valibot";
import { SHED_API } from "../api/endpoints/sheds.ts";
import { ShedError } from "../api/errors.ts";
import { BackendNameSchema, type BackendName, ShedNameSchema } from "../api/schemas/shed.ts";
import { defineCommand } from "../cli/command.ts";
import { cli } from "../cli/context.ts";
import { CreateTimings, formatTimings } from "../cli/create-timings.ts";
import { numberArg, parseDuration, parseEnvPairs, parseMemoryMb, usageError } from "../cli/values.ts";
import { loadSyncFile, selectFeatures, syncFilePath } from "./sync/sync-file.ts";
// The copying side (agent protocol, tar) only when there is a sync to run: most creates have none.
import type { FeaturePlan } from "./sync/sync-run.ts";

export default defineCommand({
  meta: {
    name: "create",
    preconnect: true,
    description: "Create a shed and wait until it is ready",
    details:
      "The -e values are the shed's environment: every later `shed exec`, console, attach and SSH session gets them " +
      "(as `docker run -e` does for `docker exec`), and so do the provisioning hooks.",
    examples: [
      "shed create hello",
      "shed create web -i shed/dev:bookworm --cpus 4 --memory 8G -e NODE_ENV=development",
      "shed create app --repo owner/repo",
      "shed create vm1 --backend qemu -i shed/base:latest --upper-size 20G",
      "shed create exp --from-snapshot baseline-v1",
      "shed create t1 --timings",
    ],
  },
  args: {
    name: { type: "positional", description: "Shed name (lowercase letters, digits, hyphens)", required: true },
    "from-snapshot": { type: "string", valueHint: "SNAPSHOT", description: "Start from a snapshot's rootfs (not with --image or --repo; --local-dir still applies)" },
    image: { type: "string", alias: "i", valueHint: "REF", description: "Image ref or alias (default: the backend's default_image)", complete: "image" },
    backend: { type: "string", valueHint: "NAME", description: "docker, qemu, ...: one the server has (its GET /api/info lists them; default: the server's)", complete: "backend" },
    cpus: { type: "string", valueHint: "N", description: "CPUs (may be fractional on docker)" },
    memory: { type: "string", alias: "m", valueHint: "SIZE", description: "Memory: 8G, 8192M or 8192 (MB)" },
    env: { type: "string", alias: "e", multiple: true, valueHint: "K=V", description: "An environment variable of the shed" },
    "upper-size": { type: "string", valueHint: "SIZE", description: "VM backends: size of the shed's writable disk (1G-100G, default 5G)" },
    repo: { type: "string", alias: "r", valueHint: "REPO", description: "Clone this repository into /workspace: owner/repo (GitHub) or a git URL" },
    "local-dir": { type: "string", valueHint: "DIR", description: "A directory (on the server's host) that is the shed's /workspace (not with --repo)", complete: "file" },
    "add-dir": { type: "string", multiple: true, valueHint: "SRC[:DST][:ro]", description: "Another host directory to mount", complete: "file" },
    provision: { type: "boolean", default: true, description: "Run the .shed/provision.yaml hooks (--no-provision skips them)" },
    sync: { type: "boolean", default: true, description: "Sync the sync.yaml profile after create (--no-sync skips it)" },
    "sync-profile": { type: "string", valueHint: "NAME", description: 'The sync.yaml profile to sync after create (default: "default", if it exists)' },
    timeout: { type: "string", valueHint: "DURATION", description: "How long the create may take, e.g. 30s, 5m, 2h (default 10m)" },
    timings: { type: "boolean", description: "Report how long each phase took (image, storage, start, agent, provisioning)" },
  },
  async run({ args }) {
    const { out } = cli();
    if (args.backend !== undefined && !v.is(BackendNameSchema, args.backend)) throw usageError(`--backend ${args.backend}: not a backend name (lowercase letters, digits, hyphens)`);
    const name = v.safeParse(ShedNameSchema, args.name);
    if (!name.success) {
      throw new ShedError("INVALID_NAME", `invalid shed name "${args.name}": ${name.issues[0]?.message}`);
    }
    if (args["from-snapshot"] !== undefined && (args.image !== undefined || args.repo !== undefined)) {
      throw usageError(`--from-snapshot cannot go with ${args.image !== undefined ? "--image" : "--repo"}: the snapshot is the shed's rootfs`);
    }
    if (args.repo !== undefined && args["local-dir"] !== undefined) {
      throw new ShedError("USAGE", "--repo and --local-dir cannot be used together: the local directory already is /workspace");
    }
    // Sync settings are read before anything is made, so a broken sync.yaml stops nothing half-way.
    const sync = args.sync === false ? undefined : await autoSyncPlan(args["sync-profile"]);
    const req = {
      name: args.name,
      image: args.image,
      fromSnapshot: args["from-snapshot"],
      backend: args.backend as BackendName | undefined,
      cpus: args.cpus === undefined ? undefined : numberArg("--cpus", args.cpus, { min: 0.1, max: 256 }),
      memoryMb: args.memory === undefined ? undefined : parseMemoryMb("--memory", args.memory),
      env: args.env.length === 0 ? undefined : parseEnvPairs("-e", args.env),
      upperSize: args["upper-size"],
      // Paths are the server's; relative ones are taken from here (the usual case: same machine).
      localDir: args["local-dir"] === undefined ? undefined : resolve(args["local-dir"]),
      addDirs: args["add-dir"].length === 0 ? undefined : args["add-dir"].map(absoluteSource),
      repo: args.repo,
      noProvision: args.provision === false || undefined,
      timeoutSeconds: args.timeout === undefined ? undefined : parseDuration("--timeout", args.timeout),
    };
    const timings = args.timings ? new CreateTimings() : undefined;
    const shed = await cli().client().call(SHED_API.createShed, { body: req, onProgress: timings ? timings.track(out.progress) : out.progress });
    const phases = timings?.finish();
    if (sync && shed.state === "running") {
      // Seed 004: sync is the client's last step and, like every step after the boot, only warns.
      const { syncShed } = await import("./sync/sync-run.ts");
      const warnings = await syncShed(cli().client(), shed.name, sync, out.progress).catch((err: Error) => [`sync: ${err.message}`]);
      if (warnings.length) shed.warnings = [...(shed.warnings ?? []), ...warnings];
    }
    for (const w of shed.warnings ?? []) out.warn(w);
    if (phases) out.note(formatTimings(phases));
    await out.result(
      phases ? { ...shed, timings: phases } : shed,
      `Created shed ${shed.name} (${shed.backend}, ${shed.image}).\n` +
        `Run a command: shed exec ${shed.name} -- uname -a\nOpen a shell:  shed console ${shed.name}`,
    );
  },
});

/** The features to sync after create: the named profile (must exist), else "default" when there is one. */
async function autoSyncPlan(profile: string | undefined): Promise<FeaturePlan[] | undefined> {
  const path = syncFilePath();
  const file = loadSyncFile(path);
  if (!file) {
    if (profile) throw new ShedError("NOT_FOUND", `--sync-profile ${profile}: there is no ${path}`);
    return undefined;
  }
  if (!profile && !file.profiles.default) return undefined;
  const { planSync } = await import("./sync/sync-run.ts");
  return planSync(selectFeatures(file, path, { profile: profile ?? "default" }));
}

/** SRC[:DST][:ro] with SRC made absolute. */
function absoluteSource(spec: string): string {
  const [src = "", ...rest] = spec.split(":");
  return [resolve(src), ...rest].join(":");
}
