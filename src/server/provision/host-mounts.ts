import { statSync } from "node:fs";
import { isAbsolute } from "node:path";
import { ShedError } from "../../api/errors.ts";
import type { CreateShedRequest } from "../../api/schemas/shed.ts";
import type { BackendFeatures } from "../../api/schemas/info.ts";
import type { MountSpec } from "../../backends/backend.ts";
import type { ServerConfig } from "../config/schema.ts";
import { expandHome } from "../../fs/home-path.ts";

export const WORKSPACE = "/workspace";

export interface HostMountPlan {
  /** Mounted by the backend (bind mount, 9p). */
  mounts: MountSpec[];
  /** Copied in by tar over the agent on create and on every start (what the backend cannot mount). */
  copies: MountSpec[];
  /** Config mounts that could not be set up: warnings, not failures (seed 004). */
  warnings: string[];
}

/**
 * Which host paths a new shed gets and how: --local-dir and --add-dir are the user's request
 * and refused when wrong; the config's `mounts` are the server's and only warned about.
 */
export function planHostMounts(config: ServerConfig, req: CreateShedRequest, backend: string, features: BackendFeatures): HostMountPlan {
  if (req.localDir && req.repo) {
    throw new ShedError("INVALID_REQUEST", "--local-dir and --repo cannot be used together: the local directory already is /workspace");
  }
  const asked: MountSpec[] = [];
  if (req.localDir) asked.push({ source: hostDir(req.localDir, "--local-dir"), target: WORKSPACE, readonly: false });
  for (const spec of req.addDirs ?? []) asked.push(parseAddDir(spec));
  if (asked.length > 0 && !features.localDir) {
    throw new ShedError("UNSUPPORTED", `the ${backend} backend cannot mount host directories (--local-dir, --add-dir); use the docker or qemu backend`);
  }
  const plan: HostMountPlan = { mounts: [...asked], copies: [], warnings: [] };
  for (const [key, m] of Object.entries(config.mounts)) {
    const source = expandHome(m.source);
    let kind: "dir" | "file";
    try {
      const s = statSync(source);
      kind = s.isDirectory() ? "dir" : "file";
    } catch {
      plan.warnings.push(`mounts.${key}: ${source} does not exist on the server; not mounted`);
      continue;
    }
    const mount = { source, target: m.target, readonly: m.readonly };
    const mountable = kind === "dir" ? features.localDir : features.fileMounts;
    (mountable ? plan.mounts : plan.copies).push(mount);
  }
  return plan;
}

function hostDir(path: string, flag: string): string {
  if (!isAbsolute(path)) throw new ShedError("INVALID_REQUEST", `${flag} ${path}: give an absolute path on the server's host`);
  let dir = false;
  try {
    dir = statSync(path).isDirectory();
  } catch {}
  if (!dir) throw new ShedError("INVALID_REQUEST", `${flag} ${path} is not a directory on the server's host`);
  return path;
}

/** SRC[:DST][:ro]; DST defaults to /workspace/<basename of SRC>. */
export function parseAddDir(spec: string): MountSpec {
  const parts = spec.split(":");
  const readonly = parts.at(-1) === "ro";
  if (readonly) parts.pop();
  const [src = "", dst, ...rest] = parts;
  if (rest.length > 0 || !src) throw new ShedError("INVALID_REQUEST", `--add-dir takes SRC[:DST][:ro], not "${spec}"`);
  const target = dst ?? `${WORKSPACE}/${src.replace(/\/+$/, "").split("/").pop()}`;
  if (!isAbsolute(target)) throw new ShedError("INVALID_REQUEST", `--add-dir ${spec}: the target ${target} must be an absolute path in the shed`);
  return { source: hostDir(src, "--add-dir"), target, readonly };
}
