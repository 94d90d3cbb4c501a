import { Client } from "ssh2";
import * as v from "valibot";
import { BOOTSTRAP_SUBSYSTEM, type BootstrapAnswer, BootstrapAnswerSchema, sshFingerprint } from "./bootstrap.ts";
import { isErrorCode, ShedError } from "./errors.ts";
import { SSH_ALGORITHMS } from "./ssh-algorithms.ts";
import { authMethods } from "./ssh-client.ts";
import { formatIssues } from "./validation.ts";

export interface PresentedHostKey {
  /** `ssh-ed25519 AAAA...`: what the client config pins. */
  line: string;
  /** `SHA256:...`, as `ssh-keygen -lf` prints it. */
  fingerprint: string;
}

export interface BootstrapOptions {
  host: string;
  sshPort: number;
  /** Decides on the host key before anything is sent: true goes on, false or a throw stops. */
  verifyHostKey(key: PresentedHostKey): Promise<boolean> | boolean;
  timeoutMs?: number;
}

/**
 * Runs the SSH door's bootstrap (src/api/bootstrap.ts) with the user's ssh-agent or default
 * keys: the host key is checked first (by the caller's rule), then the answer is read and
 * validated. Every failure is a ShedError saying what to do.
 */
export async function runBootstrap(opts: BootstrapOptions): Promise<{ answer: BootstrapAnswer; hostKey: PresentedHostKey }> {
  const where = `${opts.host}:${opts.sshPort}`;
  const conn = new Client();
  let presented: PresentedHostKey | undefined;
  let refusedKey: unknown;
  try {
    await new Promise<void>((resolve, reject) => {
      conn.once("ready", () => resolve());
      conn.once("error", (err) => {
        if (refusedKey) return reject(refusedKey);
        const level = (err as { level?: string }).level;
        const why =
          level === "client-authentication"
            ? "no key of yours was accepted (your ssh-agent's keys and ~/.ssh/id_ed25519, id_ecdsa, id_rsa were offered): add your public key to the server's ssh authorized_keys"
            : err.message;
        reject(new ShedError("SSH_FAILED", `SSH to ${where}: ${why}`, { cause: err }));
      });
      conn.connect({
        host: opts.host,
        port: opts.sshPort,
        username: "shed",
        algorithms: SSH_ALGORITHMS,
        hostVerifier: ((key: Buffer, verify: (ok: boolean) => void) => {
          presented = { line: hostKeyLine(key), fingerprint: sshFingerprint(key) };
          Promise.resolve()
            .then(() => opts.verifyHostKey(presented!))
            .then(
              (ok) => {
                if (!ok) refusedKey = new ShedError("HOST_KEY_MISMATCH", `the SSH host key of ${where} (${presented!.fingerprint}) was not accepted`);
                verify(ok);
              },
              (err) => {
                refusedKey = err;
                verify(false);
              },
            );
        }) as never,
        authHandler: authMethods("shed"),
        readyTimeout: opts.timeoutMs ?? 30_000,
      });
    });
    const text = await new Promise<string>((resolve, reject) => {
      conn.subsys(BOOTSTRAP_SUBSYSTEM, (err, channel) => {
        if (err) return reject(new ShedError("SSH_FAILED", `${where} has no bootstrap channel (${err.message}): is it an older shed-server?`, { cause: err }));
        let out = "";
        channel.on("data", (chunk: Buffer) => (out += chunk.toString()));
        channel.on("close", () => resolve(out));
      });
    });
    return { answer: parseAnswer(text, where), hostKey: presented! };
  } finally {
    conn.end();
  }
}

function parseAnswer(text: string, where: string): BootstrapAnswer {
  let body: unknown;
  try {
    body = JSON.parse(text.trim().split("\n")[0] ?? "");
  } catch {
    throw new ShedError("PROTOCOL_ERROR", `${where}: the bootstrap answer is not JSON (${text.slice(0, 80) || "nothing"})`);
  }
  const error = (body as { error?: { code?: unknown; message?: unknown } }).error;
  if (error) throw new ShedError(isErrorCode(error.code) ? error.code : "INTERNAL", `${where}: ${String(error.message)}`);
  const parsed = v.safeParse(BootstrapAnswerSchema, body);
  if (!parsed.success) throw new ShedError("PROTOCOL_ERROR", `${where}: the bootstrap answer is not what this CLI expects (${formatIssues(parsed.issues)})`);
  return parsed.output;
}

/** The OpenSSH line of a public key blob: its type (the blob's first string) and the blob. */
function hostKeyLine(blob: Buffer): string {
  const len = blob.readUInt32BE(0);
  return `${blob.subarray(4, 4 + len).toString()} ${blob.toString("base64")}`;
}
