/**
 * The error contract shared by server, API client and CLI: every failure that crosses a
 * process boundary is a ShedError with a stable code. HTTP status and CLI exit code derive
 * from the code, so they are defined once here.
 */
export const ERROR_CODES = {
  INVALID_NAME: 400,
  INVALID_REQUEST: 400,
  INVALID_CONFIG: 400,
  /** CLI only: the command line itself is wrong (exit code 2). */
  USAGE: 400,
  UNAUTHORIZED: 401,
  /** The token was good but its time is up: the CLI mints a new one over SSH and retries. */
  TOKEN_EXPIRED: 401,
  /** Plain HTTP to a server in auth.mode token or mtls: the API is on its HTTPS port only. */
  HTTPS_REQUIRED: 400,
  FORBIDDEN: 403,
  SHED_NOT_FOUND: 404,
  IMAGE_NOT_FOUND: 404,
  IMAGE_IN_USE: 409,
  SESSION_NOT_FOUND: 404,
  SNAPSHOT_NOT_FOUND: 404,
  SNAPSHOT_EXISTS: 409,
  /** A state file (a shed's, a snapshot's) cannot be read: what would act on all of them (prune) refuses. */
  STATE_UNREADABLE: 409,
  NOT_FOUND: 404,
  /** The path exists, the method does not (the answer's Allow header lists those that do). */
  METHOD_NOT_ALLOWED: 405,
  /** A request body past the server's cap (max_body_bytes; max_archive_bytes for image archives). */
  PAYLOAD_TOO_LARGE: 413,
  SHED_EXISTS: 409,
  SHED_NOT_STOPPED: 409,
  SHED_NOT_RUNNING: 409,
  SHED_BUSY: 409,
  SHED_UNHEALTHY: 503,
  UNSUPPORTED: 422,
  BACKEND_UNAVAILABLE: 503,
  AGENT_UNAVAILABLE: 503,
  /** The agent in the shed speaks a protocol version this build does not. */
  AGENT_INCOMPATIBLE: 502,
  /** A guest port (tunnel, direct-tcpip) has no listener. */
  CONNECTION_REFUSED: 502,
  /** A shed asked for brokered credentials (ssh-agent, Docker, AWS) and no `shed broker` is connected. */
  BROKER_UNAVAILABLE: 503,
  /** The broker declined or could not answer (no such key, credentials, a refused confirmation). */
  BROKER_REFUSED: 502,
  REGISTRY_ERROR: 502,
  REGISTRY_UNAUTHORIZED: 401,
  DIGEST_MISMATCH: 502,
  /** An image layer is malformed or hostile (escaping paths, ...): refused, nothing kept. */
  INVALID_LAYER: 422,
  /** `image build`: the Dockerfile or a step of it failed (the builder's message says which). */
  BUILD_FAILED: 422,
  STORAGE_FULL: 507,
  /** A host directory could not be mounted in the shed (VM backends: 9p). */
  MOUNT_FAILED: 502,
  SERVER_UNREACHABLE: 503,
  /** CLI only: no server is configured and none answers on the local default. */
  NO_SERVER: 503,
  /** CLI only: the connection to the server broke off in the middle of a call. */
  CONNECTION_LOST: 502,
  /** The CLI's SSH connection to the door failed (host key, no accepted key, network). */
  SSH_FAILED: 502,
  /** CLI only: the server presented a TLS certificate other than the one pinned for it. */
  TLS_PIN_MISMATCH: 502,
  /** CLI only: the SSH host key is not the one pinned (or given with --fingerprint). */
  HOST_KEY_MISMATCH: 502,
  PROTOCOL_ERROR: 502,
  TIMEOUT: 504,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && Object.hasOwn(ERROR_CODES, code);
}

export class ShedError extends Error {
  override readonly name = "ShedError";
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  get status(): number {
    return ERROR_CODES[this.code];
  }

  toJSON(): ErrorBody {
    return { code: this.code, message: this.message };
  }
}

/** The body of every API error response, and of every `--json` error line of the CLI. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
}

/** Wraps anything thrown into a ShedError, keeping the original as the cause. */
export function toShedError(err: unknown, fallback: ErrorCode = "INTERNAL"): ShedError {
  if (err instanceof ShedError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ShedError(fallback, message, { cause: err });
}
