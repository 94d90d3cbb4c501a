import { ShedError } from "../../api/errors.ts";
import type { ShedState } from "../../api/schemas/shed.ts";

/** Which state may follow which. Anything else is a 409 with a code that says why. */
const ALLOWED: Record<ShedState, readonly ShedState[]> = {
  creating: ["running", "error", "deleting"],
  running: ["stopped", "error", "deleting", "running"],
  stopped: ["running", "stopped", "error", "deleting"],
  error: ["running", "stopped", "error", "deleting"],
  deleting: ["error"],
};

export function canTransition(from: ShedState, to: ShedState): boolean {
  return ALLOWED[from].includes(to);
}

export type ShedAction = "start" | "stop" | "reset" | "delete" | "exec";

/** The states an action may start from, and the error when it may not. */
export function assertActionAllowed(name: string, state: ShedState, action: ShedAction, force = false): void {
  const ok: Record<ShedAction, readonly ShedState[]> = {
    start: ["stopped", "error", "running"],
    stop: ["running", "stopped", "error"],
    reset: ["stopped"],
    delete: force ? ["running", "stopped", "error", "creating", "deleting"] : ["stopped", "error"],
    exec: ["running"],
  };
  if (ok[action].includes(state)) return;
  if (state === "creating" || state === "deleting") {
    throw new ShedError("SHED_BUSY", `shed "${name}" is ${state}; wait for it to finish`);
  }
  if (action === "reset" || action === "delete") {
    const hint = action === "delete" ? "stop it first or use --force" : "stop it first";
    throw new ShedError("SHED_NOT_STOPPED", `shed "${name}" is ${state}: ${hint}`);
  }
  throw new ShedError("SHED_NOT_RUNNING", `shed "${name}" is ${state}: start it first (shed start ${name})`);
}
