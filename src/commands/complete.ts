import type { Command, RootCommand } from "@bomb.sh/tab";
import { ApiClient } from "../api/client.ts";
import { IMAGE_API } from "../api/endpoints/images.ts";
import { SERVER_API } from "../api/endpoints/server.ts";
import { SHED_API } from "../api/endpoints/sheds.ts";
import { loadClientConfig, resolveServer } from "../cli/client-config.ts";
import type { AnyCommand, ArgsDef, Completer } from "../cli/command.ts";
import { GLOBAL_ARGS } from "../cli/global.ts";
import { commands } from "../cli/registry.ts";
import { listTunnels } from "./tunnels/state.ts";

/** How long completion waits for the server's names: a slow server must not stall the shell. */
const NAMES_TIMEOUT_MS = 1500;

/**
 * `shed complete -- WORDS`: what the completion scripts of `shed completion` call. Commands
 * and flags come from the command definitions; shed, image and server names from the
 * config and the current server (nothing when it does not answer in time).
 */
export default defineHidden();

function defineHidden(): AnyCommand {
  return {
    meta: { name: "complete", description: "Candidates for the shell completion scripts", hidden: true, passThrough: "WORDS" },
    async run({ rest }: { rest?: string[] }) {
      const { default: t } = await import("@bomb.sh/tab");
      const names = await namesFromServer();
      const add = (cmd: Command, def: AnyCommand) => addArgs(cmd, { ...GLOBAL_ARGS, ...(def.args ?? {}) }, names);
      for (const [name, load] of Object.entries(commands)) {
        if (name === "complete") continue;
        const def = await load();
        add(t.command(name, def.meta.description), def);
        for (const [subName, subLoad] of Object.entries(def.subCommands ?? {})) {
          const subDef = await subLoad();
          add(t.command(`${name} ${subName}`, subDef.meta.description), subDef);
        }
      }
      addArgs(t as RootCommand, GLOBAL_ARGS, names);
      t.parse(rest ?? []);
    },
  };
}

interface Names {
  shed: string[];
  /** The server's backends (those it has), from /api/info. */
  backend: string[];
  image: string[];
  server: string[];
  session: string[];
  tunnel: string[];
}

function addArgs(cmd: Command, args: ArgsDef, names: Names): void {
  for (const [key, def] of Object.entries(args)) {
    const handler = def.complete ? candidates(def.complete, names) : undefined;
    if (def.type === "positional") {
      cmd.argument(key, handler, Boolean(def.multiple));
      continue;
    }
    // tab reads a handler as "takes a value" and an alias string as a switch.
    if (def.type === "string") cmd.option(key, def.description, handler ?? ((complete) => complete("", "")), def.alias);
    else if (def.alias) cmd.option(key, def.description, def.alias);
    else cmd.option(key, def.description);
  }
}

function candidates(source: Completer, names: Names): ((complete: (value: string, description: string) => void) => void) | undefined {
  if (source === "file") return undefined;
  const values = typeof source === "string" ? names[source as keyof Names] : source;
  return (complete) => {
    for (const v of values) complete(v, "");
  };
}

async function namesFromServer(): Promise<Names> {
  const names: Names = { shed: [], backend: [], image: [], server: [], session: [], tunnel: [] };
  try {
    const config = loadClientConfig();
    names.server = Object.keys(config.servers);
    names.tunnel = listTunnels().map((t) => t.shed);
    const client = new ApiClient(resolveServer(config, process.env.SHED_SERVER || undefined), NAMES_TIMEOUT_MS);
    const [sheds, images, info] = await Promise.allSettled([client.call(SHED_API.listSheds), client.call(IMAGE_API.listImages), client.call(SERVER_API.getInfo)]);
    if (sheds.status === "fulfilled") names.shed = sheds.value.sheds.map((s) => s.name);
    if (info.status === "fulfilled") names.backend = info.value.backends.filter((b) => b.features).map((b) => b.name);
    if (images.status === "fulfilled") names.image = images.value.images.flatMap((i) => [...(i.name ? [i.name] : []), ...(i.aliases ?? [])]);
  } catch {
    // no config, a broken one, no server: complete what needs none
  }
  return names;
}
