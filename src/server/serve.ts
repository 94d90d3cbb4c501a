import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { ShedError } from "../api/errors.ts";
import type { BackendName } from "../api/schemas/shed.ts";
import { detectBackend } from "../backends/detect.ts";
import type { Logger } from "../log/logger.ts";
import { readOrCreateServerId } from "./server-id.ts";
import { VERSION } from "../version.ts";
import { createApp } from "./app.ts";
import { setUpBroker } from "./broker/setup.ts";
import { TokenStore } from "./auth/tokens.ts";
import { checkExposure, type Listeners, listen } from "./listen.ts";
import { bootstrapService } from "./ssh/bootstrap.ts";
import { loadOrCreateCertificate } from "./tls/certificate.ts";
import { loadOrCreateClientCa } from "./tls/client-ca.ts";
import { imageBuilder, makeBackends } from "./backends.ts";
import type { ServerConfig } from "./config/schema.ts";
import type { ServerContext } from "./context.ts";
import { ImageResolver } from "./images/resolver.ts";
import { ImageService } from "./images/service.ts";
import { checkConfigMounts } from "./provision/host-mounts.ts";
import { Provisioner } from "./provision/provisioner.ts";
import { ShedService } from "./sheds/service.ts";
import { type SshDoor, startSshDoor } from "./ssh/door.ts";
import { writeFileAtomic } from "../fs/atomic-file.ts";
import { type DirLock, lockStateDir } from "./state/dir-lock.ts";
import { ShedStore } from "./state/store.ts";
import { SnapshotService } from "./snapshots/service.ts";
import { SnapshotStore } from "./snapshots/store.ts";
import { SystemService } from "./system/service.ts";
import { sectionOf } from "./config/schema.ts";
import type { Backend } from "../backends/backend.ts";

export interface RunningServer {
  ctx: ServerContext;
  url: string;
  close(): Promise<void>;
}

/**
 * Starts shed-server: state dir, backends, re-adoption of running sheds, HTTP API.
 * Returns once it listens; close() stops accepting and releases the state dir.
 */
export async function startServer(config: ServerConfig, logger: Logger): Promise<RunningServer> {
  const stateDir = resolve(config.state_dir);
  checkExposure(config);
  checkConfigMounts(config);
  const { releasePid, serverId } = await claimStateDir(stateDir);

  // Images first: every backend gets its image source from the resolver at creation.
  const resolver = new ImageResolver({ config, stateDir, logger, version: VERSION });
  const backends = makeBackends(config, { stateDir, serverId, logger, images: (name) => resolver.forBackend(name) });
  const detection =
    config.default_backend === "detect"
      ? await detectBackend(backends)
      : { chosen: config.default_backend as BackendName, reason: `default_backend is ${config.default_backend} in server.yaml` };
  const defaultBackend = detection.chosen;
  logger.info("default backend", { backend: defaultBackend, reason: detection.reason });
  if (!defaultBackend || !backends.has(defaultBackend)) {
    throw new ShedError("INVALID_CONFIG", `default_backend "${config.default_backend}" is not enabled on this server`);
  }

  const store = new ShedStore(stateDir, logger);
  const snapshotStore = new SnapshotStore(snapshotDirs(config, stateDir, backends));
  const sheds = new ShedService(config, store, backends, defaultBackend, logger, new Provisioner(logger, config), snapshotStore);
  await sheds.adopt();
  const snapshots = new SnapshotService(snapshotStore, sheds, backends, serverId, logger);

  const images = new ImageService({
    config,
    stateDir,
    logger,
    version: VERSION,
    defaultBackend,
    resolver,
    // Prune and rm keep what sheds were created from (unreadable state files have no image to keep).
    shedImages: async () => [...store.list().records.map((r) => ({ name: r.name, image: r.spec.image })), ...snapshots.pins()],
    builder: () => imageBuilder(backends, defaultBackend),
  });
  const ctx: ServerContext = {
    config,
    version: VERSION,
    logger,
    backends,
    defaultBackend,
    defaultBackendReason: detection.reason,
    sheds,
    broker: setUpBroker(sheds, logger),
    images,
    snapshots,
    system: new SystemService({ stateDir, shedStore: store, snapshots, images, backends, logger }),
    stateDir,
    httpPort: config.http_port,
    sshPort: config.ssh_port,
  };
  let listeners: Listeners;
  try {
    setUpCredentials(ctx);
    listeners = listen(ctx, createApp(ctx));
  } catch (err) {
    releasePid();
    throw err;
  }
  const http = listeners.http;
  ctx.httpPort = http.port ?? config.http_port;
  ctx.httpsPort = listeners.https?.port;
  let door: SshDoor | undefined;
  if (config.ssh.enabled) {
    try {
      door = await startSshDoor({
        config: config.ssh,
        bindAddress: config.bind_address,
        port: config.ssh_port,
        stateDir,
        logger,
        agent: (name) => sheds.agent(name),
        bootstrap: bootstrapService(ctx),
      });
    } catch (err) {
      listeners.stop();
      releasePid();
      if (err instanceof ShedError) throw err;
      const inUse = (err as NodeJS.ErrnoException).code === "EADDRINUSE";
      throw new ShedError(
        "INVALID_CONFIG",
        `cannot start the SSH door on ${config.bind_address}:${config.ssh_port}: ${inUse ? "the port is in use" : (err as Error).message}; set ssh_port (or --ssh-port) to a free port, or ssh.enabled: false`,
        { cause: err },
      );
    }
    ctx.sshPort = door.port;
    ctx.sshHostKey = door.hostKey.publicLine;
  }
  const host = config.bind_address.includes(":") ? `[${config.bind_address}]` : config.bind_address;
  const url = ctx.httpsPort ? `https://${host}:${ctx.httpsPort}` : `http://${host}:${ctx.httpPort}`;
  logger.info("shed-server listening", { url, auth: config.auth.mode, backend: defaultBackend, stateDir, ...(ctx.tls ? { tlsFingerprint: ctx.tls.fingerprint } : {}) });

  return {
    ctx,
    url,
    async close() {
      listeners.stop();
      await door?.close();
      await sheds.close();
      releasePid();
    },
  };
}

/** token and mtls: the HTTPS certificate, and the token store or the client CA. */
function setUpCredentials(ctx: ServerContext): void {
  const { config, stateDir } = ctx;
  if (config.auth.mode === "open") return;
  ctx.tls = loadOrCreateCertificate({
    stateDir,
    name: config.name,
    bindAddress: config.bind_address,
    certFile: config.tls_cert_file,
    keyFile: config.tls_key_file,
    names: config.tls_names,
  });
  // Both modes mint tokens: in mtls each client certificate comes with one (auth/tokens.ts).
  ctx.tokens = new TokenStore(stateDir);
  ctx.internalToken = `shed_internal_${randomBytes(32).toString("base64url")}`;
  if (config.auth.mode === "mtls") ctx.clientCa = loadOrCreateClientCa(stateDir, config.name);
}

/**
 * One server per state dir (an flock, see dir-lock.ts); server.pid is kept for people and
 * scripts, never trusted. A state dir that cannot be made or written is one clear error.
 */
async function claimStateDir(stateDir: string): Promise<{ releasePid: () => void; serverId: string }> {
  let lock: DirLock | undefined;
  try {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    lock = await lockStateDir(stateDir);
    const pidFile = join(stateDir, "server.pid");
    writeFileAtomic(pidFile, `${process.pid}\n`);
    const serverId = readOrCreateServerId(stateDir);
    const held = lock;
    return {
      serverId,
      releasePid: () => {
        rmSync(pidFile, { force: true });
        held.release();
      },
    };
  } catch (err) {
    lock?.release();
    if (err instanceof ShedError) throw err;
    const e = err as NodeJS.ErrnoException;
    const why = e.code === "EROFS" ? "it is on a read-only file system" : e.code === "EACCES" || e.code === "EPERM" ? "permission denied" : `${e.code ?? e.message}`;
    throw new ShedError("INVALID_CONFIG", `cannot use the state dir ${stateDir}: ${why} (${e.code ?? "error"}); make it writable, or set state_dir (or --state-dir) to a writable directory`, { cause: err });
  }
}


/** Where each enabled backend with snapshots keeps them: its section's snapshots_dir, else `<state_dir>/<backend>/snapshots`. */
function snapshotDirs(config: ServerConfig, stateDir: string, backends: Map<BackendName, Backend>): Map<string, string> {
  const dirs = new Map<string, string>();
  for (const [name, backend] of backends) {
    if (backend.features.snapshots && backend.snapshots) dirs.set(name, SnapshotStore.dirFor(stateDir, name, sectionOf(config, name).snapshots_dir));
  }
  return dirs;
}
