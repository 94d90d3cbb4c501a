import { createReadStream, existsSync, lstatSync, mkdtempSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join, posix, resolve } from "node:path";
import { Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import * as tar from "tar";
import type { AgentConnection } from "../agent/protocol/api.ts";
import { runInShed } from "../agent/protocol/run-in-shed.ts";
import { ShedError } from "../api/errors.ts";
import { tarStream, type TarWriteEntry } from "../tar/writer.ts";
import { planCopy } from "./copy-in.ts";

/**
 * Copies between this machine and a shed over its agent, as docker cp: into an existing
 * directory under the source's own name, else to the name given; `-` is a tar on
 * stdin/stdout. `shed cp` and the client library (ShedClient.copyIn/copyOut) share it.
 */

async function remoteKind(conn: AgentConnection, path: string): Promise<"dir" | "file" | "none"> {
  const q = `'${path.replace(/'/g, `'\\''`)}'`;
  const r = await runInShed(conn, { argv: ["sh", "-c", `if [ -d ${q} ]; then echo dir; elif [ -e ${q} ]; then echo file; else echo none; fi`], login: false, user: "root" });
  return (r.stdout.trim() as "dir" | "file" | "none") || "none";
}

export async function copyIn(conn: AgentConnection, local: string, target: string, keepOwners: boolean): Promise<void> {
  if (local === "-") {
    await conn.putArchive(target, typeof Bun !== "undefined" ? Bun.stdin.stream() : readable(process.stdin), { user: keepOwners ? "root" : "shed" });
    return;
  }
  if (!existsSync(local)) throw new ShedError("NOT_FOUND", `${local} does not exist on this machine`);
  const kind = await remoteKind(conn, target);
  // Into an existing directory: under its own name; else: to the name given.
  const to = kind === "dir" ? posix.join(target, basename(resolve(local))) : target;
  const plan = planCopy({ source: resolve(local), target: to });
  const entries = plan.entries.map((e): TarWriteEntry => {
    const owner = keepOwners ? statSync(e.hostPath) : undefined;
    const ids = owner ? { uid: owner.uid, gid: owner.gid } : {};
    return e.type === "dir"
      ? { name: e.name, type: "dir", mode: e.mode, mtime: e.mtime, ...ids }
      : { name: e.name, type: "file", size: e.size, mode: e.mode, mtime: e.mtime, data: () => fileStream(e.hostPath), ...ids };
  });
  if (statSync(local).isDirectory()) entries.unshift({ name: ".", type: "dir", mode: statSync(local).mode & 0o7777, mtime: Math.floor(statSync(local).mtimeMs / 1000) });
  if (keepOwners) {
    // The agent makes what it unpacks one user's; the shed's own tar keeps every owner (as root).
    const dir = await runInShed(conn, { argv: ["mkdir", "-p", plan.dir], user: "root", login: false });
    if (dir.code !== 0) throw new ShedError("INVALID_REQUEST", `cannot make ${plan.dir} in the shed: ${dir.stderr.trim()}`);
    const proc = await conn.exec({ argv: ["tar", "-x", "-p", "--same-owner", "-f", "-", "-C", plan.dir], user: "root", login: false });
    await tarStream(entries).pipeTo(proc.stdin);
    const [status, err] = await Promise.all([proc.exit, new Response(proc.stderr).text(), new Response(proc.stdout).text()]);
    if (status.code !== 0) throw new ShedError("INVALID_REQUEST", `unpacking in the shed failed: ${err.trim().split("\n").at(-1)}`);
    return;
  }
  await conn.putArchive(plan.dir, tarStream(entries), { user: "shed" });
}

export async function copyOut(conn: AgentConnection, remote: string, local: string, keepOwners: boolean): Promise<void> {
  const archive = await conn.getArchive(remote);
  if (local === "-") {
    await pipeline(Readable.fromWeb(archive as never), process.stdout);
    return;
  }
  const name = posix.basename(remote) || ".";
  const into = existsSync(local) && statSync(local).isDirectory();
  const parent = into ? local : dirname(resolve(local));
  if (!existsSync(parent)) throw new ShedError("NOT_FOUND", `${parent} does not exist on this machine`);
  // Unpacked beside the destination, then renamed: a failed copy leaves nothing half-written.
  const tmp = mkdtempSync(join(parent, ".shed-cp-"));
  try {
    const extract = tar.x({ cwd: tmp, preservePaths: false, preserveOwner: keepOwners, noChmod: false, umask: 0 } as never);
    await pipeline(Readable.fromWeb(archive as never), extract as unknown as Writable);
    const got = join(tmp, name);
    const final = into ? join(local, name) : resolve(local);
    if (existsSync(final) && lstatSync(final).isDirectory() && !lstatSync(got).isDirectory()) throw new ShedError("INVALID_REQUEST", `${final} is a directory (a file cannot replace it)`);
    rmSync(final, { recursive: true, force: true });
    renameSync(got, final);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** A host file as a web stream: Bun's own where it runs (the CLI), Node's streams in the client library under Node. */
function fileStream(path: string): ReadableStream<Uint8Array> {
  return typeof Bun !== "undefined" ? Bun.file(path).stream() : readable(createReadStream(path));
}

function readable(stream: NodeJS.ReadableStream): ReadableStream<Uint8Array> {
  return Readable.toWeb(stream as Readable) as ReadableStream<Uint8Array>;
}
