import { createServer, type Socket } from "node:net";
import { type Connection, Server, type ServerChannel, utils } from "ssh2";
import { sshFingerprint } from "../../api/bootstrap.ts";
import { isLoopback } from "../listen.ts";
import { answerBootstrap } from "./bootstrap-channel.ts";
import { coalesceWrites } from "./coalesce-writes.ts";
import type { BootstrapService } from "./bootstrap.ts";
import type { AgentConnection } from "../../agent/protocol/api.ts";
import { ShedError } from "../../api/errors.ts";
import { relayDuplex } from "../../api/stream-pump.ts";
import type { Logger } from "../../log/logger.ts";
import type { SshConfig } from "../config/schema.ts";
import { SSH_ALGORITHMS, USER_KEY_TYPES } from "../../api/ssh-algorithms.ts";
import { AuthorizedKeys } from "./authorized-keys.ts";
import { type HostKey, loadOrCreateHostKey } from "./host-key.ts";
import { handleSession } from "./session.ts";

export interface SshDoorOptions {
  config: SshConfig;
  bindAddress: string;
  port: number;
  stateDir: string;
  logger: Logger;
  /** The running shed's agent; throws ShedError (not found, not running) otherwise. */
  agent(shed: string): Promise<AgentConnection>;
  /** Answers the bootstrap subsystem (src/api/bootstrap.ts) for an authorized key. */
  bootstrap?: BootstrapService;
}

export interface SshDoor {
  port: number;
  hostKey: HostKey;
  authMode: "off" | "warn" | "enforce";
  close(): Promise<void>;
}

/**
 * The SSH front door: `ssh -p 2222 <shed>@host`. The user name picks the shed; sessions,
 * sftp and direct-tcpip are relayed to its agent. Connections that have not authenticated
 * are bounded: past `max_unauthenticated` the oldest is dropped (so idle or hostile clients
 * cannot lock a real user out), and each has `login_grace_seconds` to finish.
 */
export async function startSshDoor(opts: SshDoorOptions): Promise<SshDoor> {
  const hostKey = loadOrCreateHostKey(opts.stateDir);
  const authMode = opts.config.auth ?? (isLoopback(opts.bindAddress) ? "warn" : "enforce");
  const keys = new AuthorizedKeys(opts.config.authorized_keys);
  const log = opts.logger;
  if (authMode !== "off" && keys.count() === 0) {
    log.warn("ssh: no authorized keys found", { files: keys.paths(), auth: authMode });
  }

  const ssh = new Server({ hostKeys: [hostKey.privateKey], algorithms: SSH_ALGORITHMS, ident: "shed" }, (client: Connection) => {
    const sock = (client as unknown as { _sock: Socket })._sock;
    let failures = 0;
    let shed = "";
    // The key this connection authenticated with (none when ssh.auth is off): the bootstrap checks it again.
    let userKey: Buffer | undefined;
    client.on("authentication", (ctx) => {
      shed = ctx.username;
      if (authMode === "off") return ctx.accept();
      if (ctx.method !== "publickey") return ctx.reject(["publickey"]);
      const tooMany = () => {
        if (++failures >= opts.config.max_auth_tries) {
          log.warn("ssh: too many failed authentications", { remote: sock.remoteAddress });
          client.end();
        }
      };
      if (!USER_KEY_TYPES.has(ctx.key.algo)) {
        tooMany();
        return ctx.reject(["publickey"]);
      }
      const known = keys.has(ctx.key.data);
      if (authMode === "enforce" && !known) {
        log.warn("ssh: key not in authorized_keys refused", { key: sshFingerprint(ctx.key.data), remote: sock.remoteAddress });
        tooMany();
        return ctx.reject(["publickey"]);
      }
      // Without a signature the client only asks whether this key would do.
      if (!ctx.signature) return ctx.accept();
      const key = utils.parseKey(ctx.key.data);
      const sha1Rsa = ctx.key.algo === "ssh-rsa" && !ctx.hashAlgo?.startsWith("sha2") && ctx.hashAlgo !== "sha256" && ctx.hashAlgo !== "sha512";
      if (key instanceof Error || sha1Rsa || !key.verify(ctx.blob!, ctx.signature, ctx.hashAlgo)) {
        tooMany();
        return ctx.reject(["publickey"]);
      }
      if (!known) log.warn("ssh: key not in authorized_keys accepted (ssh.auth is warn)", { shed, remote: sock.remoteAddress });
      userKey = ctx.key.data;
      ctx.accept();
    });
    client.on("ready", () => {
      authenticated(sock);
      log.debug("ssh: authenticated", { shed, remote: sock.remoteAddress });
      const agent = () => opts.agent(shed);
      const bootstrap = (channel: ServerChannel) => answerBootstrap(channel, { key: userKey, keys, remote: sock.remoteAddress, service: opts.bootstrap, logger: log });
      client.on("session", (accept) => handleSession(accept(), { shed, client, agent, logger: log, bootstrap }));
      client.on("tcpip", (accept, reject, info) => {
        agent()
          .then((a) => a.connectTcp(info.destPort, info.destIP || "127.0.0.1"))
          .then(
            (conn) => relayDuplex(accept(), conn),
            (err) => {
              log.debug("ssh: direct-tcpip refused", { shed, port: info.destPort, reason: (err as Error).message });
              reject();
            },
          );
      });
    });
    client.on("error", (err) => log.debug("ssh: connection error", { remote: sock?.remoteAddress, reason: err.message }));
  });
  ssh.on("error", (err: Error) => log.warn("ssh: server error", { reason: err.message }));

  // Sockets not yet authenticated, oldest first.
  const pending = new Map<Socket, ReturnType<typeof setTimeout>>();
  const authenticated = (sock: Socket) => {
    clearTimeout(pending.get(sock));
    pending.delete(sock);
  };
  const open = new Set<Socket>();
  const tcp = createServer((sock) => {
    sock.setNoDelay(true);
    coalesceWrites(sock);
    open.add(sock);
    sock.once("close", () => open.delete(sock));
    if (pending.size >= opts.config.max_unauthenticated) {
      const [oldest] = pending.keys();
      if (oldest) {
        authenticated(oldest);
        oldest.destroy();
      }
    }
    pending.set(
      sock,
      setTimeout(() => {
        pending.delete(sock);
        sock.destroy();
      }, opts.config.login_grace_seconds * 1000),
    );
    sock.once("close", () => authenticated(sock));
    ssh.injectSocket(sock);
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once("error", (err) =>
      reject(new ShedError("INVALID_CONFIG", `cannot listen for SSH on ${opts.bindAddress}:${opts.port}: ${err.message}`, { cause: err })),
    );
    tcp.listen(opts.port, opts.bindAddress, () => resolve());
  });
  const address = tcp.address();
  const port = typeof address === "object" && address ? address.port : opts.port;
  log.info("ssh door listening", { address: opts.bindAddress, port, auth: authMode });
  return {
    port,
    hostKey,
    authMode,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of pending.values()) clearTimeout(timer);
        pending.clear();
        tcp.close(() => resolve());
        for (const sock of open) sock.destroy();
      }),
  };
}
