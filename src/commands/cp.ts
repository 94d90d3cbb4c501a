import { existsSync, lstatSync, mkdtempSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join, posix, resolve } from "node:path";
import { Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import * as tar from "tar";
import { planCopy } from "../transfer/copy-in.ts";
import { runInShed } from "../agent/protocol/run-in-shed.ts";
import { openShedAgent } from "../api/agent-client.ts";
import { ShedError } from "../api/errors.ts";
import { defineCommand } from "../cli/command.ts";
import { cli } from "../cli/context.ts";
import { usageError } from "../cli/values.ts";
import { tarStream, type TarWriteEntry } from "../tar/writer.ts";

/**
 * `shed cp SRC DST`, as docker cp: one side is `NAME:PATH` in a shed, the other a path here
 * (or `-`: a tar on stdin/stdout). Files and directories go as tar over the agent, modes and
 * times kept. Into a shed they belong to the shed user unless -a keeps the source's uid/gid;
 * out of it they belong to whoever runs shed unless -a (as root) keeps the shed's.
 */
export default defineCommand({
  meta: {
    name: "cp",
    description: "Copy files and directories between this machine and a shed",
    details:
      "If DST is a directory that exists, SRC goes inside it; otherwise SRC is copied to the name DST. " +
      "`-` as SRC reads a tar from stdin; as DST it writes a tar to stdout.",
    examples: ["shed cp ./dir hello:/workspace/dir", "shed cp hello:/etc/hosts .", "shed cp -a ./data hello:/srv", "shed cp hello:/var/log/shed - | tar t"],
  },
  args: {
    source: { type: "positional", required: true, description: "What to copy: PATH here or NAME:PATH in a shed", complete: "file" },
    destination: { type: "positional", required: true, description: "Where to: PATH here or NAME:PATH in a shed", complete: "file" },
    archive: { type: "boolean", alias: "a", description: "Keep the owners (uid/gid) of what is copied" },
  },
  async run({ args }) {
    const src = splitRemote(args.source);
    const dst = splitRemote(args.destination);
    if (src.shed && dst.shed) throw usageError("shed cp: copy between a shed and this machine (one of SRC and DST is NAME:PATH, not both)");
    if (!src.shed && !dst.shed) throw usageError("shed cp: one of SRC and DST must be NAME:PATH in a shed");
    const shed = (src.shed ?? dst.shed)!;
    const conn = await openShedAgent(cli().client(), shed);
    try {
      if (dst.shed) await copyIn(conn, src.path, dst.path, Boolean(args.archive));
      else await copyOut(conn, src.path, dst.path, Boolean(args.archive));
    } finally {
      conn.close();
    }
    await cli().out.result({ source: args.source, destination: args.destination, copied: true }, "");
  },
});

type Agent = Awaited<ReturnType<typeof openShedAgent>>;

function splitRemote(arg: string): { shed?: string; path: string } {
  const m = /^([a-z0-9][a-z0-9-]{0,62}):(.*)$/.exec(arg);
  if (!m) return { path: arg };
  if (!m[2]!.startsWith("/")) throw usageError(`shed cp: the path in a shed is absolute: ${m[1]}:/${m[2]}`);
  return { shed: m[1]!, path: m[2]! };
}

async function remoteKind(conn: Agent, path: string): Promise<"dir" | "file" | "none"> {
  const q = `'${path.replace(/'/g, `'\\''`)}'`;
  const r = await runInShed(conn, { argv: ["sh", "-c", `if [ -d ${q} ]; then echo dir; elif [ -e ${q} ]; then echo file; else echo none; fi`], login: false, user: "root" });
  return (r.stdout.trim() as "dir" | "file" | "none") || "none";
}

async function copyIn(conn: Agent, local: string, target: string, keepOwners: boolean): Promise<void> {
  if (local === "-") {
    await conn.putArchive(target, Bun.stdin.stream(), { user: keepOwners ? "root" : "shed" });
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
      : { name: e.name, type: "file", size: e.size, mode: e.mode, mtime: e.mtime, data: () => Bun.file(e.hostPath).stream(), ...ids };
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

async function copyOut(conn: Agent, remote: string, local: string, keepOwners: boolean): Promise<void> {
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
    if (existsSync(final) && lstatSync(final).isDirectory() && !lstatSync(got).isDirectory()) throw usageError(`shed cp: ${final} is a directory`);
    rmSync(final, { recursive: true, force: true });
    renameSync(got, final);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
