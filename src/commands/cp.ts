import { openShedAgent } from "../api/agent-client.ts";
import { defineCommand } from "../cli/command.ts";
import { cli } from "../cli/context.ts";
import { usageError } from "../cli/values.ts";
import { copyIn, copyOut } from "../transfer/copy.ts";

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

function splitRemote(arg: string): { shed?: string; path: string } {
  const m = /^([a-z0-9][a-z0-9-]{0,62}):(.*)$/.exec(arg);
  if (!m) return { path: arg };
  if (!m[2]!.startsWith("/")) throw usageError(`shed cp: the path in a shed is absolute: ${m[1]}:/${m[2]}`);
  return { shed: m[1]!, path: m[2]! };
}
