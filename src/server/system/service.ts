import { existsSync, rmSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { ShedError } from "../../api/errors.ts";
import type { BackendName } from "../../api/schemas/shed.ts";
import type { DiskCategory, PruneSystemRequest, PruneSystemResult, SystemDf } from "../../api/schemas/system.ts";
import { DISK_CATEGORIES } from "../../api/schemas/system.ts";
import type { Backend, DiskClaim } from "../../backends/backend.ts";
import type { Logger } from "../../log/logger.ts";
import type { ImageService } from "../images/service.ts";
import type { SnapshotService } from "../snapshots/service.ts";
import type { ShedStore } from "../state/store.ts";
import { type Bytes, walkClaims } from "./disk-walk.ts";
import { dirEntries } from "../../fs/dir-entries.ts";

export interface SystemDeps {
  stateDir: string;
  shedStore: ShedStore;
  snapshots: SnapshotService;
  images: ImageService;
  backends: Map<BackendName, Backend>;
  logger: Logger;
}

/** One thing prune removes: what it is, what it frees, how. */
interface PruneStep {
  category: DiskCategory;
  name: string;
  bytes: number;
  run(): Promise<void>;
}

const key = (category: DiskCategory, name: string) => `${category}\0${name}`;

/**
 * `system df` and `system prune`: the state dir measured once (every file to the thing it
 * belongs to: a shed's disk, a snapshot, the image store; what no one claims is "other"),
 * and one plan of what prune removes, which a dry run returns and a real prune carries out.
 * Snapshots are never pruned; a state file that cannot be read stops prune before it acts.
 */
export class SystemService {
  constructor(private readonly deps: SystemDeps) {}

  async df(verbose: boolean): Promise<SystemDf> {
    const measured = await this.measure();
    const plan = await this.plan({ images: true, orphans: true, logs: true, instances: true }, measured.byKey);
    const reclaim = new Map<DiskCategory, number>();
    for (const s of plan) reclaim.set(s.category, (reclaim.get(s.category) ?? 0) + s.bytes);
    const categories = DISK_CATEGORIES.map((category) => {
      const items = [...measured.byKey]
        .filter(([k]) => k.startsWith(`${category}\0`))
        .map(([k, b]) => ({ name: k.slice(category.length + 1), logicalBytes: b.logical, physicalBytes: b.physical }));
      const external = measured.external.filter((e) => e.category === category);
      const names = new Set([...items.map((i) => i.name), ...external.map((e) => e.name)]);
      return {
        category,
        count: category === "other" ? 0 : names.size,
        logicalBytes: sum(items, "logicalBytes"),
        physicalBytes: sum(items, "physicalBytes"),
        reclaimableBytes: reclaim.get(category) ?? 0,
        ...(verbose ? { items: [...items, ...external.map((e) => ({ name: e.name, logicalBytes: e.bytes ?? 0, physicalBytes: e.bytes ?? 0, external: true }))] } : {}),
      };
    });
    const unreadable = this.unreadable();
    return {
      categories,
      totals: {
        logicalBytes: sum(categories, "logicalBytes"),
        physicalBytes: sum(categories, "physicalBytes") - measured.sharedSaving,
        reclaimableBytes: sum(categories, "reclaimableBytes"),
      },
      sharedBytes: measured.sharedSaving,
      ...(unreadable.length ? { unreadable } : {}),
    };
  }

  async prune(req: PruneSystemRequest): Promise<PruneSystemResult> {
    const unreadable = this.unreadable();
    if (unreadable.length) {
      throw new ShedError(
        "STATE_UNREADABLE",
        `prune reclaims nothing while a state file cannot be read: ${unreadable.join("; ")}; fix or remove it (shed delete --force NAME for a shed's) and prune again`,
      );
    }
    const noneAsked = !req.images && !req.instances && !req.logs && !req.orphans;
    const asked = noneAsked ? { ...req, images: true, orphans: true } : req;
    const plan = await this.plan(asked, (await this.measure()).byKey);
    if (!req.dryRun) {
      for (const step of plan) await step.run();
      this.deps.logger.info("system pruned", { steps: plan.length, bytes: sum(plan, "bytes") });
    }
    return { dryRun: Boolean(req.dryRun), removed: plan.map(({ category, name, bytes }) => ({ category, name, bytes })), reclaimedBytes: sum(plan, "bytes") };
  }

  /** Shed and snapshot state files that cannot be read. */
  private unreadable(): string[] {
    const sheds = this.deps.shedStore.list().problems.map((p) => `${p.file} (${p.reason})`);
    const snaps = this.deps.snapshots.store
      .scan()
      .problems.filter((p) => p.unreadable)
      .map((p) => p.unreadable!);
    return [...sheds, ...snaps];
  }

  /** Every claim: the server's own (image store, erofs roots, state files, snapshots) and the backends'. */
  private async claims(): Promise<{ paths: Map<string, string>; external: DiskClaim[] }> {
    const { stateDir } = this.deps;
    const paths = new Map<string, string>();
    paths.set(join(stateDir, "images"), key("images", "image store blobs"));
    for (const f of dirEntries(join(stateDir, "rootfs"))) paths.set(join(stateDir, "rootfs", f), key("images", `erofs ${f}`));
    for (const f of dirEntries(this.deps.shedStore.dir)) if (f.endsWith(".json")) paths.set(join(this.deps.shedStore.dir, f), key("sheds", f.slice(0, -5)));
    const { records, problems } = this.deps.snapshots.store.scan();
    for (const r of records) paths.set(this.deps.snapshots.store.dir(r.backend, r.name), key("snapshots", r.name));
    for (const p of problems) paths.set(p.dir, key(p.unreadable ? "snapshots" : "orphans", p.name));
    const external: DiskClaim[] = [];
    for (const c of await this.backendClaims()) {
      if (c.path) paths.set(c.path, key(c.category, c.name));
      else external.push(c);
    }
    return { paths, external };
  }

  /** What the backends say they keep (a backend that cannot say is left out, with a warning). */
  private async backendClaims(): Promise<DiskClaim[]> {
    const claims: DiskClaim[] = [];
    for (const [name, backend] of this.deps.backends) {
      try {
        claims.push(...((await backend.diskUsage?.()) ?? []));
      } catch (err) {
        this.deps.logger.warn("disk usage of a backend not known", { backend: name, error: String(err) });
      }
    }
    return claims;
  }

  private async measure(): Promise<{ byKey: Map<string, Bytes>; sharedSaving: number; external: DiskClaim[] }> {
    const { paths, external } = await this.claims();
    const { stateDir } = this.deps;
    // Snapshot dirs configured outside the state dir are measured too.
    const roots = [stateDir, ...this.deps.snapshots.store.roots().filter((r) => relative(stateDir, r).startsWith(".."))];
    const byKey = new Map<string, Bytes>();
    let sharedSaving = 0;
    for (const root of roots) {
      if (!existsSync(root)) continue;
      const walked = await walkClaims(root, paths, key("other", "state dir"));
      sharedSaving += walked.sharedSaving;
      for (const [k, b] of walked.byClaim) {
        const have = byKey.get(k) ?? { logical: 0, physical: 0 };
        byKey.set(k, { logical: have.logical + b.logical, physical: have.physical + b.physical });
      }
    }
    return { byKey, sharedSaving, external };
  }

  /** What prune removes for `req`, in order; a dry run returns it, a real prune runs it. */
  private async plan(req: PruneSystemRequest, sizes: Map<string, Bytes>): Promise<PruneStep[]> {
    const bytes = (category: DiskCategory, name: string) => sizes.get(key(category, name))?.physical ?? 0;
    const cutoff = req.untilSeconds === undefined ? undefined : Date.now() - req.untilSeconds * 1000;
    const oldEnough = (path: string) => cutoff === undefined || mtimeMs(path) <= cutoff;
    const steps: PruneStep[] = [];
    if (req.orphans) {
      for (const o of this.deps.snapshots.orphans()) {
        if (oldEnough(o.dir)) steps.push({ category: "orphans", name: o.name, bytes: bytes("orphans", o.name), run: () => this.deps.snapshots.reclaimOrphan(o) });
      }
    }
    if (req.instances) steps.push(...(await this.strayInstances(bytes)));
    const claims = req.logs || req.images ? await this.backendClaims() : [];
    if (req.logs) {
      for (const c of claims) {
        if (c.category !== "logs" || !c.path || !existsSync(c.path) || !oldEnough(c.path)) continue;
        const found = this.deps.shedStore.lookup(c.name);
        if (found && "record" in found && found.record.state === "running") continue;
        const path = c.path;
        steps.push({ category: "logs", name: c.name, bytes: bytes("logs", c.name), run: async () => rmSync(path, { force: true }) });
      }
    }
    if (req.images) steps.push(...(await this.imageSteps(cutoff, claims, bytes)));
    return steps;
  }

  /** Instances a backend still has that no shed record names (what a crash between the two left). */
  private async strayInstances(bytes: (c: DiskCategory, n: string) => number): Promise<PruneStep[]> {
    const steps: PruneStep[] = [];
    for (const [, backend] of this.deps.backends) {
      if (!(await backend.probe()).ok) continue;
      for (const found of await backend.list()) {
        if (!found.name || this.deps.shedStore.lookup(found.name)) continue;
        const instance = { name: found.name, spec: { name: found.name, image: "", cpus: 1, memoryMb: 64, env: {}, mounts: [] }, data: found.data };
        steps.push({ category: "sheds", name: `${backend.name}/${found.name}`, bytes: bytes("sheds", found.name), run: () => backend.delete(instance) });
      }
    }
    return steps;
  }

  /**
   * The image store's prune (what no shed, snapshot, tag or alias keeps; with --until only
   * images the store got before `addedBefore`), then what was made from images that leave the
   * store (or are gone from it): their erofs roots and the backends' per-image caches (a VM's
   * boot files).
   */
  private async imageSteps(addedBefore: number | undefined, claims: DiskClaim[], bytes: (c: DiskCategory, n: string) => number): Promise<PruneStep[]> {
    const { images, stateDir } = this.deps;
    const age = addedBefore === undefined ? {} : { addedBefore };
    const dry = await images.prune({ dryRun: true }, age);
    const leaving = new Set<string>(dry.images.map((i) => i.digest));
    const inStore = new Set<string>(images.store.list().map((e) => e.digest));
    const steps: PruneStep[] = dry.images.map((i) => ({ category: "images", name: i.ref ?? i.digest, bytes: 0, run: async () => {} }));
    if (dry.blobs > 0 || dry.images.length > 0) {
      steps.push({ category: "images", name: `${dry.blobs} unused blobs`, bytes: dry.reclaimedBytes, run: async () => void (await images.prune({ dryRun: false }, age)) });
    }
    const rootfs = join(stateDir, "rootfs");
    const made = [
      ...dirEntries(rootfs).map((f) => ({ name: `erofs ${f}`, path: join(rootfs, f), image: /^(sha256)-([0-9a-f]{64})/.exec(f)?.slice(1, 3).join(":") })),
      ...claims.filter((c) => c.category === "images" && c.path && c.image).map((c) => ({ name: c.name, path: c.path!, image: c.image })),
    ];
    for (const { name, path, image } of made) {
      if (!image || (inStore.has(image) && !leaving.has(image))) continue;
      steps.push({ category: "images", name, bytes: bytes("images", name), run: async () => rmSync(path, { recursive: true, force: true }) });
    }
    return steps;
  }
}


function mtimeMs(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function sum<T, K extends keyof T>(items: T[], k: K): number {
  return items.reduce((n, i) => n + (i[k] as number), 0);
}
