import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import * as v from "valibot";
import type { ServerEndpoint } from "../api/client.ts";
import { ShedError } from "../api/errors.ts";
import { formatIssues } from "../api/validation.ts";
import { writeFileAtomic } from "../fs/atomic-file.ts";
import { closest } from "./parse.ts";

/** ~/.config/shed/config.yaml, shaped as the original's: default_server + servers. */
const ServerEntrySchema = v.object({
  host: v.pipe(v.string(), v.minLength(1)),
  http_port: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65535)), 8080),
  ssh_port: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65535)), 2222),
  token: v.optional(v.string()),
  host_key: v.optional(v.string()),
  /** What `shed server add` found (absent: an open server, or one added by hand). */
  auth: v.optional(v.picklist(["open", "token", "mtls"])),
  /** HTTPS (token, mtls): the port and the certificate pinned over SSH. */
  https_port: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65535))),
  tls_cert: v.optional(v.string()),
  tls_fingerprint: v.optional(v.string()),
  token_id: v.optional(v.string()),
  token_issued_at: v.optional(v.string()),
  token_expires_at: v.optional(v.string()),
  /** mtls: the client certificate and key the server's CA signed. */
  client_cert: v.optional(v.string()),
  client_key: v.optional(v.string()),
});

export const ClientConfigSchema = v.object({
  default_server: v.optional(v.string()),
  servers: v.optional(v.record(v.string(), ServerEntrySchema), {}),
});

export type ClientConfig = v.InferOutput<typeof ClientConfigSchema>;
export type ServerEntry = v.InferOutput<typeof ServerEntrySchema>;

/** The client config dir: $SHED_CONFIG_DIR, else $XDG_CONFIG_HOME/shed, else ~/.config/shed. */
export function clientConfigDir(): string {
  if (process.env.SHED_CONFIG_DIR) return process.env.SHED_CONFIG_DIR;
  const base = process.env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return join(base, "shed");
}

/** The client config file: -c/--config (which main puts in SHED_CONFIG), else config.yaml in the config dir. */
export function clientConfigPath(): string {
  return process.env.SHED_CONFIG || join(clientConfigDir(), "config.yaml");
}

export function loadClientConfig(): ClientConfig {
  const path = clientConfigPath();
  if (!existsSync(path)) {
    if (process.env.SHED_CONFIG) throw new ShedError("INVALID_CONFIG", `no client config at ${path} (from --config or SHED_CONFIG)`);
    return { servers: {} };
  }
  let raw: unknown;
  try {
    // Bun's native YAML: the `yaml` package costs every command ~10 ms of start-up.
    raw = Bun.YAML.parse(readFileSync(path, "utf8")) ?? {};
  } catch (err) {
    throw new ShedError("INVALID_CONFIG", `${path}: not valid YAML: ${(err as Error).message}`);
  }
  const result = v.safeParse(ClientConfigSchema, raw);
  if (!result.success) throw new ShedError("INVALID_CONFIG", `${path}: ${formatIssues(result.issues)}`);
  return result.output;
}

export function saveClientConfig(config: ClientConfig): void {
  const path = clientConfigPath();
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileAtomic(path, Bun.YAML.stringify(config, null, 2), 0o600);
}

/** The implicit server used when none is configured (what `make quickstart` starts). */
export const LOCAL_SERVER: ServerEndpoint = {
  name: "local",
  host: "127.0.0.1",
  httpPort: 8080,
  sshPort: 2222,
};

export function endpointFromEntry(name: string, entry: ServerEntry): ServerEndpoint {
  const pinned = entry.https_port && entry.tls_cert && entry.tls_fingerprint;
  return {
    name,
    host: entry.host,
    httpPort: entry.http_port,
    sshPort: entry.ssh_port,
    token: entry.token,
    hostKey: entry.host_key,
    ...(pinned
      ? {
          tls: {
            port: entry.https_port!,
            certificate: entry.tls_cert!,
            fingerprint: entry.tls_fingerprint!,
            ...(entry.client_cert && entry.client_key ? { clientCert: entry.client_cert, clientKey: entry.client_key } : {}),
          },
        }
      : {}),
    ...(entry.token_expires_at ? { tokenExpiresAt: entry.token_expires_at, tokenIssuedAt: entry.token_issued_at } : {}),
    // An mtls entry from before certificates came with a token: renewed on its first call.
    ...(entry.auth === "mtls" && !entry.token ? { tokenExpiresAt: new Date(0).toISOString() } : {}),
    // Loaded only when a token is due: the SSH client is not part of every command's start-up.
    ...((entry.auth === "token" || entry.auth === "mtls") && entry.host_key
      ? { refreshToken: () => import("./server-bootstrap.ts").then((m) => m.refreshToken(name)) }
      : {}),
  };
}

/** How a server is reached, for `server list`: open, token, mtls, or unpinned (no pin of any kind). */
export function securityOf(entry: ServerEntry): "open" | "token" | "mtls" | "unpinned" {
  if ((entry.auth === "token" || entry.auth === "mtls") && entry.tls_fingerprint) return entry.auth;
  return entry.host_key ? "open" : "unpinned";
}

/**
 * Which server a command talks to: -s NAME (or SHED_SERVER), else default_server, else the
 * only one, else the local one. -s also takes HOST:PORT or http://HOST:PORT for a server not
 * in the config. SHED_TOKEN, when set, is the token sent to it.
 */
export function resolveServer(config: ClientConfig, name?: string): ServerEndpoint {
  const endpoint = pickServer(config, name);
  if (!process.env.SHED_TOKEN) return endpoint;
  const { refreshToken: _mine, tokenExpiresAt: _e, tokenIssuedAt: _i, ...rest } = endpoint;
  return { ...rest, token: process.env.SHED_TOKEN };
}

function pickServer(config: ClientConfig, name?: string): ServerEndpoint {
  const servers = config.servers;
  if (name) {
    const entry = servers[name];
    if (entry) return endpointFromEntry(name, entry);
    if (name === "local") return LOCAL_SERVER;
    const address = parseAddress(name);
    if (address) return address;
    const known = Object.keys(servers);
    const guess = closest(name, known);
    throw new ShedError(
      "NOT_FOUND",
      `no server named "${name}" in ${clientConfigPath()}` +
        (guess ? `; did you mean ${guess}?` : known.length ? ` (known: ${known.join(", ")})` : "; add one with `shed server add HOST`, or give HOST:PORT"),
    );
  }
  const def = config.default_server;
  if (def && servers[def]) return endpointFromEntry(def, servers[def]);
  const names = Object.keys(servers);
  if (names.length === 1) return endpointFromEntry(names[0]!, servers[names[0]!]!);
  if (names.length > 1) {
    throw new ShedError("NO_SERVER", `${clientConfigPath()} has ${names.length} servers and no default_server: pick one with -s NAME or \`shed server set-default NAME\``);
  }
  return { ...LOCAL_SERVER, implicit: true };
}

/** HOST:PORT, [V6]:PORT or http://HOST[:PORT] -> an endpoint not in the config. */
function parseAddress(text: string): ServerEndpoint | undefined {
  if (!/[:.]/.test(text) && text !== "localhost") return undefined;
  let url: URL;
  try {
    url = new URL(/^https?:\/\//.test(text) ? text : `http://${text}`);
  } catch {
    return undefined;
  }
  if (url.pathname !== "/" || url.search) return undefined;
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  return { name: text, host, httpPort: url.port ? Number(url.port) : 8080, sshPort: 2222 };
}

/** Every configured server (for --all), or local when none. */
export function allServers(config: ClientConfig): ServerEndpoint[] {
  const entries = Object.entries(config.servers);
  if (entries.length === 0) return [resolveServer(config)];
  return entries.map(([name, entry]) => resolveServer({ ...config, servers: { [name]: entry }, default_server: name }));
}
