import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { virtiofsdPath } from "./vm.ts";

const MAIN = join(import.meta.dirname, "main.ts");
const BUN = join(import.meta.dirname, "../../../node_modules/.bin/bun");

/** One vfkit invocation as the stand-in logged it. */
export interface StandinEvent {
  pid: number;
  /** When the stand-in logged it (ISO 8601). */
  time?: string;
  event: "invoked" | "refused" | "warning" | "qemu" | "rest" | "signal" | "exited";
  argv?: string[];
  message?: string;
  method?: string;
  path?: string;
  /** POST /vm/state: the state asked for. */
  state?: unknown;
  signal?: string;
  qemuExit?: number;
}

/**
 * A `vfkit` executable in `dir` that is the stand-in, logging every invocation to
 * `dir/vfkit-standin.log` (tests point vz.vfkit_path at it). `fault`: no-virtiofs boots the VM
 * without its shares (as if VZ had attached none), so the guest's mount fails; ignore-stop
 * answers REST Stop with 202 and does nothing (a guest without power-button handling).
 */
export function installStandin(dir: string, opts: { fault?: "no-virtiofs" | "ignore-stop" } = {}): { path: string; log: string; events: () => StandinEvent[] } {
  const path = join(dir, "vfkit");
  const log = join(dir, "vfkit-standin.log");
  const fault = opts.fault ? `VFKIT_STANDIN_FAULT=${opts.fault} ` : "";
  writeFileSync(path, `#!/bin/sh\n${fault}VFKIT_STANDIN_LOG='${log}' exec '${BUN}' '${MAIN}' "$@"\n`);
  chmodSync(path, 0o755);
  const events = () =>
    existsSync(log)
      ? readFileSync(log, "utf8")
          .split("\n")
          .filter(Boolean)
          .map((l) => JSON.parse(l) as StandinEvent)
      : [];
  return { path, log, events };
}

/** Why the stand-in cannot boot VMs here, or undefined. */
export function standinMissing(): string | undefined {
  const lacking: string[] = [];
  if (!virtiofsdPath()) lacking.push("virtiofsd (qemu-system-common: /usr/lib/qemu/virtiofsd)");
  if (!Bun.which("setpriv")) lacking.push("setpriv (util-linux)");
  if (!Bun.which("qemu-system-x86_64")) lacking.push("qemu-system-x86_64");
  return lacking.length ? `skipped: the vfkit stand-in needs ${lacking.join(", ")}` : undefined;
}
