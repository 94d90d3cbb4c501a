import { backendDefinitions } from "../../backends/registry.ts";
import { type ServerConfig, sectionOf } from "../config/schema.ts";
import { type CheckResult, checkDisk, checkPorts, checkSshKeys, checkStateDir, doctorContext } from "./checks.ts";

/** Every check of `shed-server doctor`, in the order a new host is usually fixed: each backend's own, then the server's. */
export async function runDoctor(config: ServerConfig, opts: { kvmTimeoutMs?: number } = {}): Promise<CheckResult[]> {
  const ctx = { ...doctorContext(config), ...opts };
  const results: CheckResult[] = [];
  for (const def of backendDefinitions()) {
    if (!def.doctor) continue;
    const input = { section: sectionOf(config, def.name), stateDir: ctx.stateDir, enabled: ctx.enabled.includes(def.name), kvmTimeoutMs: ctx.kvmTimeoutMs };
    results.push(...(await def.doctor(input)));
  }
  return [...results, checkDisk(ctx), ...checkPorts(ctx), checkSshKeys(ctx), checkStateDir(ctx)];
}

/** One line per check: `STATUS  check  message; fix: ...`. */
export function formatChecks(results: CheckResult[]): string {
  const width = Math.max(...results.map((r) => r.check.length));
  return results.map((r) => `${r.status}  ${r.check.padEnd(width)}  ${r.message}${r.fix ? `; fix: ${r.fix}` : ""}`).join("\n");
}
