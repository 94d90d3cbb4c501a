import { ApiClient } from "../api/client.ts";
import { allServers, loadClientConfig } from "./client-config.ts";
import { cli } from "./context.ts";

/**
 * Runs `fn` against the command's server or, with --all, against every configured server in
 * parallel: there a server that fails (down, slow past the timeout) is a warning and the
 * others' answers still count.
 */
export async function acrossServers<T>(all: boolean | undefined, fn: (client: ApiClient) => Promise<T[]>): Promise<T[]> {
  if (!all) return fn(cli().client());
  const results = await Promise.all(
    allServers(loadClientConfig()).map(async (endpoint) => {
      try {
        return await fn(new ApiClient(endpoint, cli().globals.timeoutMs));
      } catch (err) {
        cli().out.warn(`${endpoint.name}: ${(err as Error).message}`);
        return [];
      }
    }),
  );
  return results.flat();
}
