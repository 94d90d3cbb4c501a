import { createInterface } from "node:readline/promises";
import type { BootstrapAnswer } from "../api/bootstrap.ts";
import { type PresentedHostKey, runBootstrap } from "../api/bootstrap-client.ts";
import { ApiClient, type RefreshedCredentials } from "../api/client.ts";
import { SERVER_API } from "../api/endpoints/server.ts";
import { SHED_API } from "../api/endpoints/sheds.ts";
import { ShedError } from "../api/errors.ts";
import { endpointFromEntry, loadClientConfig, type ServerEntry, saveClientConfig } from "./client-config.ts";

/**
 * The client's side of the SSH bootstrap: how `server add`, `server update --refetch` and the
 * transparent token refresh decide on a host key, turn the answer into a config entry, and
 * check the entry against the API before anything is saved.
 */

export interface HostKeyRule {
  /** The key pinned before (update, refresh): a different one needs one of the rules below. */
  pinned?: string;
  /** `SHA256:...` the user read on the server (ssh-keygen -lf). */
  fingerprint?: string;
  trustOnFirstUse?: boolean;
  /** Ask on the terminal when nothing above decides. */
  interactive: boolean;
  what: string;
}

/** Whether a person can be asked: a terminal on stdin and stderr, and not --json. */
export function canAsk(json: boolean): boolean {
  return !json && Boolean(process.stdin.isTTY && process.stderr.isTTY);
}

export function hostKeyVerifier(rule: HostKeyRule): (key: PresentedHostKey) => Promise<boolean> {
  return async (key) => {
    const blob = key.line.split(/\s+/)[1];
    if (rule.pinned && rule.pinned.split(/\s+/)[1] === blob) return true;
    const changed = rule.pinned
      ? `the SSH host key of ${rule.what} has changed since it was pinned (it is now ${key.fingerprint}). `
      : "";
    if (rule.fingerprint) {
      if (normalize(rule.fingerprint) === normalize(key.fingerprint)) return true;
      throw new ShedError(
        "HOST_KEY_MISMATCH",
        `${changed}the SSH host key of ${rule.what} is ${key.fingerprint}, not the ${rule.fingerprint} given with --fingerprint: nothing was saved. ` +
          "Check the fingerprint on the server (ssh-keygen -lf <state_dir>/ssh_host_ed25519_key)",
      );
    }
    if (rule.trustOnFirstUse) return true;
    if (!rule.interactive) {
      throw new ShedError(
        rule.pinned ? "HOST_KEY_MISMATCH" : "USAGE",
        `${changed}cannot confirm the SSH host key ${key.fingerprint} of ${rule.what} without a terminal: ` +
          "give --fingerprint SHA256:... (from ssh-keygen -lf <state_dir>/ssh_host_ed25519_key on the server) or --trust-on-first-use",
      );
    }
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      const question = rule.pinned
        ? `WARNING: ${changed}\nIf the server's key was rotated on purpose, re-pin it. Re-pin ${key.fingerprint}? [y/N] `
        : `The SSH host key of ${rule.what} is ${key.fingerprint}\n(on the server: ssh-keygen -lf <state_dir>/ssh_host_ed25519_key). Trust it? [y/N] `;
      const answer = await rl.question(question);
      if (!/^y(es)?$/i.test(answer.trim())) throw new ShedError("HOST_KEY_MISMATCH", `the SSH host key ${key.fingerprint} of ${rule.what} was not accepted: nothing was saved`);
      return true;
    } finally {
      rl.close();
    }
  };
}

function normalize(fp: string): string {
  return fp.trim().replace(/^SHA256:/i, "").replace(/=+$/, "");
}

/** The config entry a bootstrap answer makes (the host's other settings kept from `base`). */
export function entryFromAnswer(host: string, sshPort: number, hostKey: string, answer: BootstrapAnswer, base: Partial<ServerEntry> = {}): ServerEntry {
  const {
    token: _t, token_id: _ti, token_expires_at: _te, token_issued_at: _tis, tls_cert: _c, tls_fingerprint: _f, https_port: _h, client_cert: _cc, client_key: _ck,
    ...kept
  } = base;
  const entry: ServerEntry = { ...kept, host, ssh_port: sshPort, http_port: answer.httpPort, host_key: hostKey, auth: answer.mode };
  if (answer.mode === "open") return entry;
  if (!answer.tls || !answer.httpsPort) throw new ShedError("PROTOCOL_ERROR", `${host}: auth.mode ${answer.mode} but the bootstrap gave no HTTPS port or certificate`);
  Object.assign(entry, { https_port: answer.httpsPort, tls_cert: answer.tls.certificate, tls_fingerprint: answer.tls.fingerprint });
  if (answer.token) Object.assign(entry, tokenFields(answer.token));
  if (answer.clientCertificate) Object.assign(entry, { client_cert: answer.clientCertificate.cert, client_key: answer.clientCertificate.key });
  return entry;
}

function tokenFields(token: NonNullable<BootstrapAnswer["token"]>): Partial<ServerEntry> {
  return { token: token.token, token_id: token.id, token_expires_at: token.expiresAt, token_issued_at: new Date().toISOString() };
}

/** The API answers with this entry's pins and credentials (an endpoint that needs them): or the add fails before saving. */
export async function checkEntry(name: string, entry: ServerEntry, timeoutMs: number) {
  const { refreshToken: _none, ...endpoint } = endpointFromEntry(name, entry);
  const client = new ApiClient(endpoint, timeoutMs);
  const info = await client.call(SERVER_API.getInfo);
  await client.call(SHED_API.listSheds);
  return info;
}

/**
 * A new token (in mtls: with a new client certificate) for a configured server, over SSH, without asking: the host key must be the
 * pinned one and the TLS certificate the pinned one (either changed: refused, with how to
 * re-pin). The config is re-read just before it is written, so only this entry's token moves.
 */
export async function refreshToken(name: string): Promise<RefreshedCredentials> {
  const entry = loadClientConfig().servers[name];
  if (!entry?.host_key) throw new ShedError("TOKEN_EXPIRED", `the token for server "${name}" has expired and it has no pinned SSH host key to get a new one: run \`shed server update ${name} --refetch\``);
  const { answer } = await runBootstrap({
    host: entry.host,
    sshPort: entry.ssh_port,
    verifyHostKey: hostKeyVerifier({ pinned: entry.host_key, interactive: false, what: `server "${name}"` }),
  }).catch((err) => {
    throw new ShedError((err as ShedError).code ?? "SSH_FAILED", `the token for server "${name}" has expired and a new one could not be had over SSH: ${(err as Error).message}`, { cause: err });
  });
  if (answer.tls?.fingerprint !== entry.tls_fingerprint) {
    throw new ShedError(
      "TLS_PIN_MISMATCH",
      `server "${name}" now has a different TLS certificate (${answer.tls?.fingerprint ?? "none"}) than the pinned one (${entry.tls_fingerprint}); if that was intended, re-pin with \`shed server update ${name} --refetch\``,
    );
  }
  if (!answer.token || answer.mode !== entry.auth) {
    throw new ShedError("PROTOCOL_ERROR", `server "${name}" gave no new credentials of its kind (its auth.mode is ${answer.mode} now): run \`shed server update ${name} --refetch\``);
  }
  const cert = answer.clientCertificate;
  const fields = { ...tokenFields(answer.token), ...(cert ? { client_cert: cert.cert, client_key: cert.key } : {}) };
  const config = loadClientConfig();
  const current = config.servers[name];
  if (current) {
    config.servers[name] = { ...current, ...fields };
    saveClientConfig(config);
  }
  return { token: answer.token.token, expiresAt: answer.token.expiresAt, issuedAt: fields.token_issued_at!, ...(cert ? { clientCert: cert.cert, clientKey: cert.key } : {}) };
}
