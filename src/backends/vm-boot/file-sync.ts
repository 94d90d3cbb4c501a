import { type FSWatcher, readFileSync, statSync, watch } from "node:fs";
import { basename, dirname } from "node:path";
import type { AgentConnection, ExecProcess } from "../../agent/protocol/api.ts";
import { runInShed } from "../../agent/protocol/run-in-shed.ts";
import { writeFileAtomic } from "../../fs/atomic-file.ts";
import type { Logger } from "../../log/logger.ts";
import { copyIntoShed, ownerFor, planCopy } from "../../transfer/copy-in.ts";
import type { MountSpec } from "../backend.ts";

/** The agent as the guest images install it (guest/systemd/agent-start). */
const GUEST_AGENT = "/usr/lib/shed/shed-agent";
/** Changes closer together than this are one sync (an editor's write, rename, chmod). */
const SETTLE_MS = 250;
const REWATCH_MS = 2000;

/** A shed's mounts split: directories (the backend shares them) and single files (synced here). */
export function splitMounts(mounts: MountSpec[] | undefined): { dirs: MountSpec[]; files: MountSpec[] } {
  const dirs: MountSpec[] = [];
  const files: MountSpec[] = [];
  for (const m of mounts ?? []) {
    let isFile = false;
    try {
      isFile = statSync(m.source).isFile();
    } catch {}
    (isFile ? files : dirs).push(m);
  }
  return { dirs, files };
}

/**
 * Single-file mounts (credentials) of a VM shed, seed 004's way: copied in by tar over the
 * agent on create and every start, then kept in sync both ways while the shed runs (inotify
 * on the host; `shed-agent watch` in the guest, over the same agent connection). The last
 * content synced per file is remembered, so a sync's own write is not sent back. Files
 * mounted read-only only go in. Failures are warnings (seed 004): the shed runs on.
 */
export class FileMountSync {
  private readonly last = new Map<string, string>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private watchers: FSWatcher[] = [];
  private guest: ExecProcess | undefined;
  private stopped = false;

  constructor(
    private readonly opts: { name: string; files: MountSpec[]; dial: () => Promise<AgentConnection>; logger: Logger },
  ) {}

  /** Copies every file in (`push`: at boot), then follows both sides until stop(). */
  async start(push: boolean): Promise<void> {
    if (push) {
      const agent = await this.opts.dial();
      try {
        for (const f of this.opts.files) await this.push(agent, f);
      } finally {
        agent.close();
      }
    } else {
      // Found running after a server restart: both sides were in sync when it went down.
      for (const f of this.opts.files) this.remember(f, readHost(f));
    }
    if (this.stopped) return;
    this.watchHost();
    void this.watchGuest();
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.watchers) w.close();
    this.watchers = [];
    for (const t of this.timers.values()) clearTimeout(t);
    void this.guest?.stdin.close().catch(() => {});
    this.guest?.signal("SIGTERM");
  }

  private remember(f: MountSpec, data: Uint8Array | undefined): void {
    if (data) this.last.set(f.target, digest(data));
  }

  private async push(agent: AgentConnection, f: MountSpec): Promise<void> {
    try {
      const data = readHost(f);
      if (!data || this.last.get(f.target) === digest(data)) return;
      await copyIntoShed(agent, planCopy({ source: f.source, target: f.target }), ownerFor(f.target));
      this.remember(f, data);
    } catch (err) {
      this.warn(`copying ${f.source} to ${f.target} failed`, err);
    }
  }

  private async pull(agent: AgentConnection, f: MountSpec): Promise<void> {
    if (f.readonly) return;
    try {
      const r = await runInShed(agent, { argv: ["base64", "-w0", "--", f.target], user: "root", login: false });
      if (r.code !== 0) return; // gone or being replaced: the next event says
      const data = Buffer.from(r.stdout, "base64");
      if (this.last.get(f.target) === digest(data)) return;
      writeFileAtomic(f.source, data, statSync(f.source).mode & 0o7777);
      this.remember(f, data);
    } catch (err) {
      this.warn(`copying ${f.target} back to ${f.source} failed`, err);
    }
  }

  /** Runs `sync` for `f` once changes to it settle. */
  private settle(key: string, sync: (agent: AgentConnection) => Promise<void>): void {
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        if (this.stopped) return;
        void this.opts
          .dial()
          .then(async (agent) => {
            try {
              await sync(agent);
            } finally {
              agent.close();
            }
          })
          .catch((err) => this.warn("the agent did not answer for a file sync", err));
      }, SETTLE_MS),
    );
  }

  private watchHost(): void {
    const byDir = Map.groupBy(this.opts.files, (f) => dirname(f.source));
    for (const [dir, files] of byDir) {
      try {
        this.watchers.push(
          watch(dir, (_event, name) => {
            for (const f of files) if (name !== null && basename(f.source) === name.toString()) this.settle(`host:${f.target}`, (a) => this.push(a, f));
          }),
        );
      } catch (err) {
        this.warn(`watching ${dir} failed: changes there do not reach the shed`, err);
      }
    }
  }

  /** `shed-agent watch` on the guest's files, started again while the shed runs when it ends. */
  private async watchGuest(): Promise<void> {
    const files = this.opts.files.filter((f) => !f.readonly);
    while (!this.stopped && files.length) {
      try {
        const agent = await this.opts.dial();
        try {
          const proc = await agent.exec({ argv: [GUEST_AGENT, "watch", ...files.map((f) => f.target)], user: "root", login: false });
          this.guest = proc;
          // Its stdin stays open: the watcher ends when it closes (stop, or this connection gone).
          const decoder = new TextDecoder();
          let buffered = "";
          for await (const chunk of proc.stdout) {
            buffered += decoder.decode(chunk, { stream: true });
            let nl: number;
            while ((nl = buffered.indexOf("\n")) >= 0) {
              const line = buffered.slice(0, nl).trim();
              buffered = buffered.slice(nl + 1);
              const f = files[Number(line)];
              if (f) this.settle(`guest:${f.target}`, (a) => this.pull(a, f));
            }
          }
          const status = await proc.exit;
          const stderr = await new Response(proc.stderr).text();
          if (status.code === 2 || status.code === 127) {
            // An image whose agent has no `watch` (older than this server): files only go in.
            this.warn("the shed's agent cannot watch files (rebuild the image for changes in the shed to reach the host)", stderr.trim() || `exit ${status.code}`);
            return;
          }
          if (!this.stopped) this.opts.logger.debug("guest file watch ended", { name: this.opts.name, code: status.code, stderr });
        } finally {
          agent.close();
        }
      } catch (err) {
        if (this.stopped) return;
        this.opts.logger.debug("guest file watch failed", { name: this.opts.name, error: String(err) });
      }
      await Bun.sleep(REWATCH_MS);
    }
  }

  private warn(what: string, err: unknown): void {
    if (!this.stopped) this.opts.logger.warn(`file credentials: ${what}`, { name: this.opts.name, error: err instanceof Error ? err.message : String(err) });
  }
}

/** The running syncs of a backend's sheds, by name. */
export class FileMountSyncs {
  private readonly syncs = new Map<string, FileMountSync>();

  constructor(private readonly logger: Logger) {}

  /** Starts (again) the sync of `name`'s files; none when it has none. */
  async start(name: string, files: MountSpec[], dial: () => Promise<AgentConnection>, push: boolean): Promise<void> {
    this.stop(name);
    if (!files.length) return;
    const sync = new FileMountSync({ name, files, dial, logger: this.logger });
    this.syncs.set(name, sync);
    await sync.start(push);
  }

  stop(name: string): void {
    this.syncs.get(name)?.stop();
    this.syncs.delete(name);
  }
}

function readHost(f: MountSpec): Uint8Array | undefined {
  try {
    return readFileSync(f.source);
  } catch {
    return undefined;
  }
}

function digest(data: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(data).digest("hex");
}
