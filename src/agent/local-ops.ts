import { statSync } from "node:fs";
import { hostname } from "node:os";
import { resolve } from "node:path";
import { ShedError } from "../api/errors.ts";
import type { Logger } from "../log/logger.ts";
import { spawnExec } from "./exec.ts";
import type { AgentHealth, AgentInfo, ByteDuplex, ExecProcess, ExecRequest } from "./protocol/api.ts";
import type { AgentOps } from "./protocol/ops.ts";
import type { Activity } from "./protocol/service.ts";
import { dialTcp } from "./tcp.ts";
import type { UnixListeners } from "./unix-listeners.ts";

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
  /** Made on the first listenUnix (SSH agent forwarding): node:net is ~5 MB an idle agent does without. */
  private unixListeners: Promise<UnixListeners> | undefined;
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

  // node-tar is loaded on the first copy, not at start: it alone is ~14 MB of an idle agent's RSS.
  async putArchive(dir: string, tar: ReadableStream<Uint8Array>, opts: { user?: string } = {}): Promise<void> {
    const { unpackInto } = await import("./archive.ts");
    return unpackInto(dir, tar, opts.user ?? this.opts.user);
  }

  async getArchive(path: string): Promise<ReadableStream<Uint8Array>> {
    // A missing path is answered without loading node-tar: the server asks for files that
    // are usually absent (the provision file, on every create and start).
    assertExists(path);
    const { packPath } = await import("./archive.ts");
    return packPath(path);
  }

  connectTcp(port: number, host?: string): Promise<ByteDuplex> {
    return dialTcp(port, host);
  }

  listenUnix(path: string, opts: { user?: string } = {}): Promise<{ close(): void }> {
    return this.unix().then((u) => u.listen(path, opts.user ?? this.opts.user));
  }

  acceptUnix(path: string): Promise<ByteDuplex> {
    return this.unix().then((u) => u.accept(path));
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

  private unix(): Promise<UnixListeners> {
    this.unixListeners ??= import("./unix-listeners.ts").then((m) => new m.UnixListeners());
    return this.unixListeners;
  }

  private uptime(): number {
    return Date.now() - this.started;
  }
}

/** What packPath would say of a missing path, said before node-tar is loaded for it. */
function assertExists(path: string): void {
  const abs = resolve("/", path);
  try {
    statSync(abs);
  } catch {
    throw new ShedError("NOT_FOUND", `${abs} does not exist in the shed`);
  }
}
