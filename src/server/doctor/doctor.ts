import type { ServerConfig } from "../config/schema.ts";
import {
  type CheckResult,
  checkDisk,
  checkDocker,
  checkKvm,
  checkPorts,
  checkQemu,
  checkSshKeys,
  checkStateDir,
  checkTools,
  doctorContext,
} from "./checks.ts";

/** Every check of `shed-server doctor`, in the order a new host is usually fixed. */
export async function runDoctor(config: ServerConfig, opts: { kvmTimeoutMs?: number } = {}): Promise<CheckResult[]> {
  const ctx = { ...doctorContext(config), ...opts };
  return [
    await checkDocker(ctx),
    checkQemu(ctx),
    await checkKvm(ctx),
    ...checkTools(ctx),
    checkDisk(ctx),
    ...checkPorts(ctx),
    checkSshKeys(ctx),
    checkStateDir(ctx),
  ];
}

/** One line per check: `STATUS  check  message; fix: ...`. */
export function formatChecks(results: CheckResult[]): string {
  const width = Math.max(...results.map((r) => r.check.length));
  return results.map((r) => `${r.status}  ${r.check.padEnd(width)}  ${r.message}${r.fix ? `; fix: ${r.fix}` : ""}`).join("\n");
}
