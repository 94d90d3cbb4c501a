import type * as v from "valibot";
import type { Backend } from "./backend.ts";
import type { BackendSection } from "./config-section.ts";
import type { BackendContext } from "./context.ts";

export type CheckStatus = "PASS" | "WARN" | "FAIL";

/** One line of `shed-server doctor`. */
export interface DoctorCheck {
  /** Short and stable: what `--json` consumers key on. */
  check: string;
  status: CheckStatus;
  message: string;
  /** What to do, for WARN and FAIL. */
  fix?: string;
}

export interface DoctorInput<S> {
  section: S;
  stateDir: string;
  /** Whether enabled_backends has this backend. */
  enabled: boolean;
  /** KVM probe deadline, for backends that boot a kernel to test it. */
  kvmTimeoutMs?: number;
}

/** One step of `shed-server setup`: what it is, and whether it was there, was made, or would be (--dry-run). */
export interface SetupStep {
  step: string;
  status: "present" | "made" | "would make";
  detail: string;
}

export interface SetupInput<S> {
  section: S;
  stateDir: string;
  serverId: string;
  dryRun: boolean;
  /** The shed-server executable (for file capabilities), when it is a compiled binary. */
  serverBinary?: string;
}

/**
 * A backend as the server knows it, exported by its folder's index.ts and listed once in
 * registry.ts: its name, its server.yaml section, where detection may pick it, and the
 * factory. Everything the server decides about a backend comes from here or from the
 * backend's `features`; the server never names one.
 */
export interface BackendDefinition<S extends BackendSection = BackendSection, N extends string = string> {
  readonly name: N;
  /** Its server.yaml section (the key is the name), composed into the server config. */
  readonly section: v.GenericSchema<unknown, S>;
  /** Rank in `default_backend: detect` per platform, lowest first; absent: never detected there. */
  readonly detect?: Partial<Record<NodeJS.Platform, number>>;
  /** Where it can run at all, and how to say so ("macOS (Apple Silicon)"). */
  readonly runsOn?: { platforms: NodeJS.Platform[]; says: string };
  /** Absent for a backend shed knows of but this build does not have yet. */
  create?(ctx: BackendContext, section: S): Backend;
  /** Its section in the server.yaml `shed-server install` writes: indented, commented lines at their defaults. */
  readonly template?: string;
  /** What `shed-server setup` makes for it on this host (idempotent: a second run makes nothing). */
  setup?(input: SetupInput<S>): Promise<SetupStep[]>;
  /** Its lines of `shed-server doctor`, in order. */
  doctor?(input: DoctorInput<S>): Promise<DoctorCheck[]>;
}

/** A definition with its name and section types kept (the server config derives its type from them). */
export function defineBackend<const N extends string, S extends BackendSection>(def: BackendDefinition<S, N>): BackendDefinition<S, N> {
  return def;
}
