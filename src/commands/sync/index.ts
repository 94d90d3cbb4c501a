import { defineCommand } from "../../cli/command.ts";
import { ShedError } from "../../api/errors.ts";
import { cli } from "../../cli/context.ts";
import { loadSyncFile, selectFeatures, syncFilePath } from "./sync-file.ts";
import { describePlan, planSync, syncShed } from "./sync-run.ts";

export default defineCommand({
  meta: {
    name: "sync",
    description: "Copy files from this machine into a shed (profiles and features of sync.yaml)",
    examples: ["shed sync hello", "shed sync hello -p full --dry-run", "shed sync hello -f certs"],
  },
  args: {
    name: { type: "positional", description: "Shed name", required: true, complete: "shed" },
    profile: { type: "string", alias: "p", valueHint: "NAME", description: 'Profile to sync (default: "default")' },
    feature: { type: "string", alias: "f", valueHint: "NAME", description: "Sync only this feature" },
    "dry-run": { type: "boolean", description: "List what would be copied; copy nothing" },
  },
  async run({ args }) {
    const { out } = cli();
    const path = syncFilePath();
    const file = loadSyncFile(path);
    if (!file) throw new ShedError("NOT_FOUND", `no sync file: create ${path} (features and profiles; see \`shed sync --help\`)`);
    const plans = planSync(selectFeatures(file, path, { profile: args.profile, feature: args.feature }));
    if (args["dry-run"]) {
      const described = describePlan(plans);
      for (const w of plans.flatMap((p) => p.warnings)) out.warn(w);
      await out.result({ dryRun: true, features: described }, () =>
        described
          .map((f) => [`${f.feature}:`, ...f.files.map((x) => `  ${x.source} -> ${x.target}`), ...f.postSync.map((c) => `  then: ${c}`)].join("\n"))
          .join("\n"),
      );
      return;
    }
    const warnings = await syncShed(cli().client(), args.name, plans, out.progress);
    for (const w of warnings) out.warn(w);
    await out.result({ synced: true, features: describePlan(plans), warnings }, `Synced ${plans.map((p) => p.name).join(", ") || "nothing"} into ${args.name}.`);
  },
});
