import { ApiClient } from "../api/client.ts";
import { loadClientConfig, resolveServer } from "./client-config.ts";
import type { GlobalOptions } from "./global.ts";
import { Output } from "./output.ts";

/** What every command gets: the global flags, an Output, and a way to its server. */
export interface CliContext {
  globals: GlobalOptions;
  out: Output;
  client(): ApiClient;
}

let current: CliContext | undefined;

export function setCliContext(globals: GlobalOptions): CliContext {
  let client: ApiClient | undefined;
  current = {
    globals,
    out: new Output(globals),
    client: () => {
      client ??= new ApiClient(resolveServer(loadClientConfig(), globals.server), globals.timeoutMs);
      return client;
    },
  };
  return current;
}

export function cli(): CliContext {
  if (!current) throw new Error("CLI context used before main() set it");
  return current;
}
