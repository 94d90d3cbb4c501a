import { ShedError } from "./errors.ts";

/** HTTPS to a server: the certificate pinned by `shed server add` (and, in mtls, the client's own). */
export interface PinnedTls {
  port: number;
  /** The server's certificate (PEM): the only one trusted for it. */
  certificate: string;
  /** Its SHA-256 (`AB:CD:...`), checked on every connection. */
  fingerprint: string;
  /** mtls: the client certificate and key the server's CA signed. */
  clientCert?: string;
  clientKey?: string;
}

/**
 * Bun's TLS options for a pinned server: its certificate is the only CA (so any other fails
 * the chain check) and the fingerprint must match (the host name is not checked: the pin
 * says more than a name would, and the server may be reached by any address).
 */
export function pinnedTlsOptions(pin: PinnedTls) {
  return {
    ca: pin.certificate,
    checkServerIdentity: (_host: string, cert: { fingerprint256?: string }) =>
      cert.fingerprint256 === pin.fingerprint ? undefined : new Error(`certificate fingerprint ${cert.fingerprint256} is not the pinned ${pin.fingerprint}`),
    ...(pin.clientCert && pin.clientKey ? { cert: pin.clientCert, key: pin.clientKey } : {}),
  };
}

const TLS_FAILURE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|TLS|SSL|handshake|fingerprint/i;

/** True when a fetch or WebSocket failure came from the TLS handshake (not a refused or lost connection). */
export function isTlsFailure(err: unknown): boolean {
  const code = String((err as { code?: unknown }).code ?? "");
  return TLS_FAILURE.test(code) || TLS_FAILURE.test(err instanceof Error ? err.message : String(err));
}

/** The fingerprint of whatever certificate the address presents (no verification: only to say what it was). */
export async function presentedFingerprint(host: string, port: number, timeoutMs = 5000): Promise<string | undefined> {
  // Loaded only here: node:tls is not needed on the way of a call that succeeds.
  const { connect } = await import("node:tls");
  return new Promise((resolve) => {
    const sock = connect({ host, port, rejectUnauthorized: false, servername: /^[\d.:]+$/.test(host) ? undefined : host });
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    const finish = (fp: string | undefined) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(fp);
    };
    sock.once("secureConnect", () => finish(sock.getPeerCertificate()?.fingerprint256 || undefined));
    sock.once("error", () => finish(undefined));
  });
}

/** A certificate other than the pinned one, named with both fingerprints and how to re-pin. */
export function pinMismatch(server: string, host: string, pin: PinnedTls, presented: string | undefined, cause?: unknown): ShedError {
  return new ShedError(
    "TLS_PIN_MISMATCH",
    `server "${server}" at ${host}:${pin.port} presented a different TLS certificate (${presented ?? "none"}) than the one pinned when it was added (${pin.fingerprint}). ` +
      `Someone may be intercepting the connection. If the server's certificate was changed on purpose, re-pin it over SSH with \`shed server update ${server} --refetch\``,
    { cause },
  );
}

/** The error for a TLS failure against a pin: a different certificate (with both fingerprints), or a handshake refused. */
export async function tlsFailure(server: string, host: string, pin: PinnedTls, cause: unknown): Promise<ShedError> {
  const presented = await presentedFingerprint(host, pin.port);
  if (presented && presented !== pin.fingerprint) return pinMismatch(server, host, pin, presented, cause);
  const reason = cause instanceof Error ? cause.message.split(/\. For more information|\n/)[0] : String(cause);
  return new ShedError(
    "SERVER_UNREACHABLE",
    `the TLS handshake with server "${server}" at ${host}:${pin.port} failed (${reason})${pin.clientCert ? "; is the client certificate still valid? (`shed server update " + server + " --refetch`)" : ""}`,
    { cause },
  );
}
