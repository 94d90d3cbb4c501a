import { posix } from "node:path";
import type { AgentConnection } from "../../agent/protocol/api.ts";
import { openShedAgent } from "../../api/agent-client.ts";
import type { ApiClient } from "../../api/client.ts";
import type { Progress } from "../../api/schemas/shed.ts";
import { expandHome } from "../../fs/home-path.ts";
import { type CopyPlan, copyIntoShed, ownerFor, planCopy, SHED_HOME } from "../../transfer/copy-in.ts";
import { runInShed } from "../../agent/protocol/run-in-shed.ts";
import type { SyncFeature } from "./sync-file.ts";

const LOG = "/var/log/shed/sync.log";

export interface FeaturePlan {
  name: string;
  copies: CopyPlan[];
  postSync: string[];
  /** Paths that could not be planned (missing on this machine): skipped with a warning. */
  warnings: string[];
}

/** What a sync of these features would copy: exactly what it then copies. */
export function planSync(features: [string, SyncFeature][]): FeaturePlan[] {
  return features.map(([name, f]) => {
    const plan: FeaturePlan = { name, copies: [], postSync: f.postSync.map((p) => p.run), warnings: [] };
    for (const p of f.paths) {
      try {
        plan.copies.push(
          planCopy({
            source: expandHome(p.source),
            target: expandShed(p.target),
            include: globs(p.include),
            exclude: globs(p.exclude),
          }),
        );
      } catch (err) {
        plan.warnings.push(`sync ${name}: ${(err as Error).message}; skipped`);
      }
    }
    return plan;
  });
}

/** The plan as data: per feature the files with their source and target. */
export function describePlan(plans: FeaturePlan[]) {
  return plans.map((p) => ({
    feature: p.name,
    files: p.copies.flatMap((c) =>
      c.entries.filter((e) => e.type === "file").map((e) => ({ source: e.hostPath, target: posix.join(c.dir, e.name), size: e.size })),
    ),
    postSync: p.postSync,
  }));
}

/**
 * Copies each feature's paths (files under /home/shed become the shed user's, others root's),
 * then runs its postSync commands as root; one feature failing does not stop the others.
 * Returns warnings; a log of what ran goes to /var/log/shed/sync.log in the shed.
 */
export async function runSync(agent: AgentConnection, plans: FeaturePlan[], say: (line: string) => void): Promise<string[]> {
  const warnings: string[] = [];
  let log = `# shed sync ${new Date().toISOString()}\n`;
  for (const plan of plans) {
    warnings.push(...plan.warnings);
    try {
      for (const copy of plan.copies) {
        await copyIntoShed(agent, copy, ownerFor(copy.spec.target));
        const n = copy.entries.filter((e) => e.type === "file").length;
        say(`${plan.name}: ${copy.spec.source} -> ${copy.spec.target} (${n} file${n === 1 ? "" : "s"})`);
        log += `${plan.name}: ${copy.spec.source} -> ${copy.spec.target} (${n} files)\n`;
      }
      for (const command of plan.postSync) {
        const r = await runInShed(agent, { command, user: "root" });
        log += `${plan.name}: $ ${command} (exit ${r.code})\n${r.stdout}${r.stderr}`;
        if (r.code !== 0) warnings.push(`sync ${plan.name}: postSync \`${command}\` failed with exit ${r.code}: ${r.stderr.trim().split("\n").pop() ?? ""}`);
      }
    } catch (err) {
      warnings.push(`sync ${plan.name}: ${(err as Error).message}`);
    }
  }
  await runInShed(agent, { argv: ["sh", "-c", `mkdir -p /var/log/shed && cat >> ${LOG}`], user: "root", login: false }, log).catch(() => {});
  return warnings;
}

/** Runs planned features in a shed through its agent (relayed by the server). */
export async function syncShed(client: ApiClient, name: string, plans: FeaturePlan[], progress: Progress): Promise<string[]> {
  const agent = await openShedAgent(client, name);
  try {
    return await runSync(agent, plans, (line) => progress({ id: "sync", status: line }));
  } finally {
    agent.close();
  }
}

function globs(g: string | string[] | undefined): string[] | undefined {
  return g === undefined ? undefined : [g].flat();
}

function expandShed(path: string): string {
  if (path === "~") return SHED_HOME;
  return path.startsWith("~/") ? `${SHED_HOME}/${path.slice(2)}` : path;
}
