import type { TestServer } from "../harness/index.ts";

/** What the lifecycle suite sees of a shed's instance from the host, beside what the server says. */
export type InstanceView = "running" | "stopped" | "gone";

/**
 * One backend as the lifecycle suite drives it (test/backends/lifecycle-suite.ts): how to run
 * a server with it, and how to look at its instances from the host. A backend passes the
 * gate by having a target and its line in lifecycle.test.ts.
 */
export interface LifecycleTarget {
  /** The backend's name, as the server reports it. */
  backend: string;
  /** Why it cannot run here (the suite prints it and skips), or undefined. */
  missing(): string | undefined;
  /** A server whose default backend is this one, and the image ref (or alias) its sheds use. */
  start(): Promise<{ server: TestServer; image: string }>;
  /** Removes what the target made besides the server (networks, processes): also after a failure. */
  cleanup?(server: TestServer | undefined): Promise<void>;
  /** Flags of the main shed's create beyond --image (CPUs, memory) and the spec the server must report. */
  create: { args: string[]; expect: { cpus: number; memoryMb: number } };
  /** Paths in the shed (absolute) that stop and start keep and reset wipes. */
  keptPaths(server: TestServer, name: string): string[];
  /** The instance as the host sees it (container, VM process, agent process, their files). */
  instance(server: TestServer, name: string): InstanceView;
  /** What tells this instance from a restarted one (a pid, a container's start time). */
  identity(server: TestServer, name: string): string | undefined;
  /** Checks only this backend has, right after the main shed's create. */
  afterCreate?(server: TestServer, name: string, image: string): Promise<void> | void;
  /** The host directory for --local-dir must belong to this uid (a VM's QEMU runs as its owner). */
  localDirOwner?: number;
  /** Longest a single CLI call may take (a VM boot under TCG is minutes). */
  timeoutMs: number;
  /** Longest start() may take, when more than two CLI calls (a cold guest image build). */
  startTimeoutMs?: number;
}
