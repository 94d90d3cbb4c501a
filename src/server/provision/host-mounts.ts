import { realpathSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, resolve, sep } from "node:path";
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
  const bounds = mountBounds(config);
  const asked: MountSpec[] = [];
  if (req.localDir) asked.push({ source: allowedSource(hostDir(req.localDir, "--local-dir"), "--local-dir", bounds), target: WORKSPACE, readonly: false });
  for (const spec of req.addDirs ?? []) {
    const m = parseAddDir(spec);
    asked.push({ ...m, source: allowedSource(m.source, "--add-dir", bounds) });
  }
  if (asked.length > 0 && !features.localDir) {
    throw new ShedError("UNSUPPORTED", `the ${backend} backend cannot mount host directories (--local-dir, --add-dir); pick a backend that can with --backend (GET /api/info lists each backend's features: localDir)`);
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
    const mount = { source: allowedSource(source, `mounts.${key}`, bounds), target: m.target, readonly: m.readonly };
    const mountable = kind === "dir" ? features.localDir : features.fileMounts;
    (mountable ? plan.mounts : plan.copies).push(mount);
  }
  return plan;
}

/** Host paths no shed may mount, whatever mount_roots says (with everything under them). */
const NEVER = ["/etc", "/proc", "/sys", "/dev", "/boot"];

export interface MountBounds {
  /** mount_roots, symlinks resolved. */
  roots: string[];
  stateDir: string;
}

/** The configured mount roots (default: the server user's home) and the state dir, resolved. */
export function mountBounds(config: ServerConfig): MountBounds {
  const roots = (config.mount_roots ?? [homedir()]).map((r) => real(resolve(expandHome(r))));
  return { roots, stateDir: real(resolve(config.state_dir)) };
}

/**
 * A host path a shed may mount: resolved through every symlink, it lies under a mount root and
 * is none of `/`, /etc (and the like) or the state dir (nor holds it). Anything else is 403
 * FORBIDDEN naming the roots. Returns the resolved path, which is what gets mounted.
 */
export function allowedSource(path: string, what: string, bounds: MountBounds): string {
  const resolved = real(path);
  const via = resolved !== resolve(path) ? ` (it resolves to ${resolved})` : "";
  const refuse = (why: string) =>
    new ShedError("FORBIDDEN", `${what} ${path}${via}: ${why}; this server mounts only directories under its mount roots (${bounds.roots.join(", ")}), set by mount_roots in server.yaml`);
  if (resolved === sep) throw refuse("the host's root directory cannot be mounted");
  const never = NEVER.find((p) => within(resolved, p));
  if (never) throw refuse(`${never} cannot be mounted`);
  if (within(resolved, bounds.stateDir) || within(bounds.stateDir, resolved)) throw refuse("the server's state dir cannot be mounted");
  if (!bounds.roots.some((root) => within(resolved, root))) throw refuse("it is outside the mount roots");
  return resolved;
}

/** At start-up: every config mount whose source exists must be allowed, or the server does not start. */
export function checkConfigMounts(config: ServerConfig): void {
  const bounds = mountBounds(config);
  for (const [key, m] of Object.entries(config.mounts)) {
    const source = expandHome(m.source);
    try {
      statSync(source);
    } catch {
      continue; // missing: a warning at create
    }
    try {
      allowedSource(source, `mounts.${key}`, bounds);
    } catch (err) {
      throw new ShedError("INVALID_CONFIG", (err as Error).message);
    }
  }
}

function within(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir === sep ? dir : `${dir}${sep}`);
}

function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
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
