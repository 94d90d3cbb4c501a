import { hostname } from "node:os";
import type { Logger } from "../log/logger.ts";
import { unpackInto, packPath } from "./archive.ts";
import { spawnExec } from "./exec.ts";
import type { AgentHealth, AgentInfo, ByteDuplex, ExecProcess, ExecRequest } from "./protocol/api.ts";
import type { AgentOps } from "./protocol/ops.ts";
import type { Activity } from "./protocol/service.ts";
import { dialTcp } from "./tcp.ts";
import { UnixListeners } from "./unix-listeners.ts";

export interface LocalOpsOptions {
  version: string;
  /** Default user of execs and file writes ("shed"; "root" with `--user root`). */
  user: string;
  activity: Activity;
  logger: Logger;
  /** Called after a shutdown request's drain: the process exits. */
  exit: (code: number) => void;
}

/** What shed-agent does for each request: everything runs here, in the guest. */
export class LocalOps implements AgentOps {
  private readonly started = Date.now();
  private readonly unix = new UnixListeners();
  draining = false;

  constructor(private readonly opts: LocalOpsOptions) {}

  info(): Omit<AgentInfo, "protocol"> {
    return { version: this.opts.version, hostname: hostname(), pid: process.pid, uptimeMs: this.uptime() };
  }

  async health(): Promise<AgentHealth> {
    return { ok: !this.draining, uptimeMs: this.uptime(), activeStreams: this.opts.activity.active };
  }

  async exec(req: ExecRequest): Promise<ExecProcess> {
    return spawnExec(req, { user: this.opts.user });
  }

  putArchive(dir: string, tar: ReadableStream<Uint8Array>, opts: { user?: string } = {}): Promise<void> {
    return unpackInto(dir, tar, opts.user ?? this.opts.user);
  }

  async getArchive(path: string): Promise<ReadableStream<Uint8Array>> {
    return packPath(path);
  }

  connectTcp(port: number, host?: string): Promise<ByteDuplex> {
    return dialTcp(port, host);
  }

  listenUnix(path: string, opts: { user?: string } = {}): Promise<{ close(): void }> {
    return this.unix.listen(path, opts.user ?? this.opts.user);
  }

  acceptUnix(path: string): Promise<ByteDuplex> {
    return this.unix.accept(path);
  }

  /** Stops taking new streams, lets running ones finish for up to drainMs, then exits. */
  async shutdown(drainMs: number): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    this.opts.logger.info("shutdown requested", { drainMs });
    // The shutdown stream itself is one of the active ones: answer first, then drain.
    setTimeout(async () => {
      await this.opts.activity.drained(drainMs);
      this.opts.exit(0);
    }, 10);
  }

  private uptime(): number {
    return Date.now() - this.started;
  }
}
