import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { ShedError } from "../../api/errors.ts";
import { formatIssues } from "../../api/validation.ts";
import { clientConfigDir } from "../../cli/client-config.ts";

/**
 * `sync.yaml`: features (paths to copy from this machine into a shed, commands to run after)
 * grouped into profiles. `default` runs after `shed create` unless --no-sync.
 */
const Globs = v.union([v.pipe(v.string(), v.minLength(1)), v.array(v.pipe(v.string(), v.minLength(1)))]);
const PathSchema = v.object({
  source: v.pipe(v.string(), v.regex(/^(\/|~\/|~$)/, "an absolute path on this machine (or ~/...)")),
  target: v.pipe(v.string(), v.regex(/^(\/|~\/|~$)/, "an absolute path in the shed (or ~/...)")),
  include: v.optional(Globs),
  exclude: v.optional(Globs),
});
const FeatureSchema = v.object({
  description: v.optional(v.string()),
  paths: v.optional(v.array(PathSchema), []),
  postSync: v.optional(v.array(v.object({ run: v.pipe(v.string(), v.minLength(1)) })), []),
});
export const SyncFileSchema = v.object({
  features: v.optional(v.record(v.string(), FeatureSchema), {}),
  profiles: v.optional(v.record(v.string(), v.object({ features: v.array(v.string()) })), {}),
});
export type SyncFile = v.InferOutput<typeof SyncFileSchema>;
export type SyncFeature = v.InferOutput<typeof FeatureSchema>;

/** $SHED_CONFIG_DIR (or ~/.config/shed)/sync.yaml, else ~/.shed/sync.yaml as the original shed had it. */
export function syncFilePath(): string {
  const ours = join(clientConfigDir(), "sync.yaml");
  const legacy = join(homedir(), ".shed", "sync.yaml");
  return existsSync(ours) || !existsSync(legacy) ? ours : legacy;
}

/** The sync file, or undefined when there is none. Wrong content is an error naming file and key. */
export function loadSyncFile(path = syncFilePath()): SyncFile | undefined {
  if (!existsSync(path)) return undefined;
  return parseSyncFile(readFileSync(path, "utf8"), path);
}

export function parseSyncFile(text: string, path: string): SyncFile {
  let data: unknown;
  try {
    data = Bun.YAML.parse(text) ?? {};
  } catch (err) {
    throw new ShedError("INVALID_CONFIG", `${path} is not valid YAML: ${(err as Error).message}`);
  }
  const r = v.safeParse(SyncFileSchema, data);
  if (!r.success) throw new ShedError("INVALID_CONFIG", `${path}: ${formatIssues(r.issues)}`);
  for (const [name, profile] of Object.entries(r.output.profiles)) {
    for (const f of profile.features) {
      if (!r.output.features[f]) throw new ShedError("INVALID_CONFIG", `${path}: profiles.${name} names feature "${f}", which is not under features`);
    }
  }
  return r.output;
}

/** The features a sync runs: one feature (-f), or a profile's (-p, default "default"). */
export function selectFeatures(file: SyncFile, path: string, opts: { profile?: string; feature?: string }): [string, SyncFeature][] {
  if (opts.feature) {
    const f = file.features[opts.feature];
    if (!f) throw new ShedError("NOT_FOUND", `no feature "${opts.feature}" in ${path} (features: ${Object.keys(file.features).join(", ") || "none"})`);
    return [[opts.feature, f]];
  }
  const name = opts.profile ?? "default";
  const profile = file.profiles[name];
  if (!profile) throw new ShedError("NOT_FOUND", `no profile "${name}" in ${path} (profiles: ${Object.keys(file.profiles).join(", ") || "none"})`);
  return profile.features.map((f) => [f, file.features[f]!]);
}
