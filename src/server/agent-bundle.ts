import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { ShedError } from "../api/errors.ts";
import type { AgentBundle } from "../backends/context.ts";
import { fsyncDir, fsyncPath, writeFileAtomic } from "../fs/atomic-file.ts";
import { VERSION } from "../version.ts";

/**
 * The agent as sheds get it: a directory with bin/shed-agent and lib/ holding the loader
 * and the libraries it links, so it runs in any image (busybox, alpine, distroless) as
 *   /.shed/lib/<loader> --library-path /.shed/lib /.shed/bin/shed-agent ...
 * Built once per agent binary under <stateDir>/agent/.
 */
export type { AgentBundle };

/** Where shed-agent comes from: config, env, beside this executable, or embedded in it. */
export async function locateAgentBinary(configured?: string): Promise<{ path?: string; blob?: Blob }> {
  const candidates = [configured, process.env.SHED_AGENT_PATH, join(dirname(process.execPath), "shed-agent")];
  for (const candidate of candidates) {
    if (candidate && existsSync(candidate)) return { path: candidate };
  }
  const embedded = Bun.embeddedFiles.find((f) => (f as Blob & { name?: string }).name?.startsWith("shed-agent"));
  if (embedded) return { blob: embedded };
  throw new ShedError(
    "INTERNAL",
    "shed-agent not found: set agent_path in server.yaml, or put shed-agent beside shed-server",
  );
}

export async function prepareAgentBundle(stateDir: string, configured?: string): Promise<AgentBundle> {
  const source = await locateAgentBinary(configured);
  const size = source.path ? statSync(source.path).size : source.blob!.size;
  const mtime = source.path ? Math.floor(statSync(source.path).mtimeMs) : 0;
  const key = `${VERSION}-${size}-${mtime}`;
  const dir = join(stateDir, "agent", key);
  const marker = join(dir, ".complete");
  if (existsSync(marker)) return { dir, loader: await loaderName(join(dir, "bin", "shed-agent")) };

  // Build in a temp dir and rename, so a crash never leaves a bundle that looks complete.
  const tmp = `${dir}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, "bin"), { recursive: true });
  mkdirSync(join(tmp, "lib"), { recursive: true });
  mkdirSync(join(tmp, "run"), { recursive: true });
  const bin = join(tmp, "bin", "shed-agent");
  if (source.path) copyFileSync(source.path, bin);
  else await Bun.write(bin, source.blob!);
  Bun.spawnSync(["chmod", "0755", bin]);

  const libs = await linkedLibraries(bin);
  for (const lib of libs) copyFileSync(lib, join(tmp, "lib", basename(lib)));
  // A restart trusts a bundle with its marker: everything in it is on disk before the marker is.
  for (const file of [bin, ...libs.map((lib) => join(tmp, "lib", basename(lib)))]) fsyncPath(file);
  writeFileAtomic(join(tmp, ".complete"), `${key}\n`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  fsyncDir(dirname(dir));
  return { dir, loader: await loaderName(join(dir, "bin", "shed-agent")) };
}

/** Absolute paths of the shared libraries (and loader) `ldd` reports for a binary. */
async function linkedLibraries(bin: string): Promise<string[]> {
  const proc = Bun.spawnSync(["ldd", bin]);
  if (proc.exitCode !== 0) {
    throw new ShedError("INTERNAL", `ldd ${bin} failed: ${proc.stderr.toString().trim()}`);
  }
  const libs: string[] = [];
  for (const line of proc.stdout.toString().split("\n")) {
    const m = line.match(/=>\s+(\/\S+)/) ?? line.match(/^\s*(\/\S+)\s+\(/);
    if (m?.[1]) libs.push(m[1]);
  }
  return libs;
}

async function loaderName(bin: string): Promise<string> {
  const libs = await linkedLibraries(bin);
  const loader = libs.find((l) => basename(l).startsWith("ld-linux"));
  if (!loader) throw new ShedError("INTERNAL", `cannot find the dynamic loader of ${bin}`);
  return basename(loader);
}
