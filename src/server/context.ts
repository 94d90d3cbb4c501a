import type { Backend } from "../backends/backend.ts";
import type { BackendName } from "../api/schemas/shed.ts";
import type { Logger } from "../log/logger.ts";
import type { BrokerHub } from "./broker/hub.ts";
import type { ServerConfig } from "./config/schema.ts";
import type { ImageService } from "./images/service.ts";
import type { ShedService } from "./sheds/service.ts";
import type { SnapshotService } from "./snapshots/service.ts";
import type { SystemService } from "./system/service.ts";
import type { TokenStore } from "./auth/tokens.ts";
import type { ClientCa } from "./tls/client-ca.ts";
import type { ServerCertificate } from "./tls/certificate.ts";

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
  /** The user's `shed broker`, when connected (brokered credentials). */
  broker: BrokerHub;
  images: ImageService;
  snapshots: SnapshotService;
  system: SystemService;
  /** The HTTPS port actually bound (auth.mode token and mtls). */
  httpsPort?: number;
  /** The HTTPS certificate clients pin (token and mtls). */
  tls?: ServerCertificate;
  /** Minted API tokens (token mode; in mtls, one per client certificate). */
  tokens?: TokenStore;
  /** token and mtls: this process's own token for its calls to itself (MCP's tools); random per start, never stored or shown. */
  internalToken?: string;
  /** The CA that signs client certificates (mtls mode). */
  clientCa?: ClientCa;
  /** The SSH door's host key (`ssh-ed25519 AAAA...`), when the door is enabled. */
  sshHostKey?: string;
}
