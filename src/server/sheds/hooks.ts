import type { AgentConnection } from "../../agent/protocol/api.ts";
import type { CreateShedRequest, Progress } from "../../api/schemas/shed.ts";
import type { Backend } from "../../backends/backend.ts";
import type { ShedRecord } from "../state/shed-record.ts";

/**
 * What happens inside a shed around its lifecycle (provisioning: credentials, repo clone,
 * hooks, PATH capture). The service calls these at fixed points; failures here are
 * warnings, never fatal (seed 004's error policy), so they return warnings instead of throwing.
 */
export interface LifecycleHooks {
  /**
   * Before the backend creates the instance: may add mounts to the record. Throws on bad
   * input; returns warnings (what was set up only in part) for the create's result.
   */
  prepare?(record: ShedRecord, req: CreateShedRequest, backend: Backend): Promise<string[]>;
  afterCreate?(ctx: HookContext): Promise<string[]>;
  afterStart?(ctx: HookContext): Promise<string[]>;
  /** Runs within `budgetMs` (half the stop timeout, at most 30 s) before stop and delete. */
  beforeStop?(ctx: HookContext & { budgetMs: number }): Promise<string[]>;
}

export interface HookContext {
  record: ShedRecord;
  agent: AgentConnection;
  backend: Backend;
  progress: Progress;
  /** When the operation must be done (create's --timeout); steps still running then are cut. */
  deadline?: number;
}
