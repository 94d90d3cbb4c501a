import { ApiClient, type ServerEndpoint } from "../api/client.ts";
import { preconnect } from "../api/pinned-http.ts";
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

/**
 * `preconnect`: the command will call its server; a pinned HTTPS one's TLS handshake then
 * starts here and runs while the command loads and starts (a CLI process makes one or two
 * calls, so the handshake is most of what HTTPS adds to one). Nothing is sent on it before
 * a call, and only to the pinned certificate.
 */
export function setCliContext(globals: GlobalOptions, opts: { preconnect?: boolean } = {}): CliContext {
  let client: ApiClient | undefined;
  let endpoint: ServerEndpoint | undefined;
  if (opts.preconnect) {
    try {
      endpoint = resolveServer(loadClientConfig(), globals.server);
      if (endpoint.tls) preconnect(endpoint.host, endpoint.tls);
    } catch {
      // A bad config or -s NAME: client() says so, if and when the command asks for it.
      endpoint = undefined;
    }
  }
  current = {
    globals,
    out: new Output(globals),
    client: () => {
      client ??= new ApiClient(endpoint ?? resolveServer(loadClientConfig(), globals.server), globals.timeoutMs);
      return client;
    },
  };
  return current;
}

export function cli(): CliContext {
  if (!current) throw new Error("CLI context used before main() set it");
  return current;
}
