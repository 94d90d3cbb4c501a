import type { Backend } from "../backends/backend.ts";
import type { BackendName } from "../api/schemas/shed.ts";
import type { Logger } from "../log/logger.ts";
import type { ServerConfig } from "./config/schema.ts";
import type { ImageService } from "./images/service.ts";
import type { ShedService } from "./sheds/service.ts";
import type { SnapshotService } from "./snapshots/service.ts";
import type { SystemService } from "./system/service.ts";

/**
 * Everything a route or the SSH door needs, built once by the server at start.
 * Routes take this and nothing global.
 */
export interface ServerContext {
  config: ServerConfig;
  version: string;
  /** Ports actually bound (differ from config when it says 0). */
  httpPort: number;
  sshPort: number;
  stateDir: string;
  logger: Logger;
  backends: Map<BackendName, Backend>;
  defaultBackend: BackendName;
  /** How the default backend was picked (config, or what detection found). */
  defaultBackendReason?: string;
  sheds: ShedService;
  images: ImageService;
  snapshots: SnapshotService;
  system: SystemService;
  /** The SSH door's host key (`ssh-ed25519 AAAA...`), when the door is enabled. */
  sshHostKey?: string;
}
