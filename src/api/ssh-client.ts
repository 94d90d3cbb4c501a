import { timingSafeEqual } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { constants, homedir } from "node:os";
import { join } from "node:path";
import { type AuthenticationType, Client, type ClientChannel, utils } from "ssh2";
import type { ExecProcess, ExitStatus } from "../agent/protocol/api.ts";
import type { ApiClient } from "./client.ts";
import { ShedError } from "./errors.ts";
import { trustedHostKey } from "./host-key.ts";
import { webReadable } from "./stream-pump.ts";
import { SSH_ALGORITHMS } from "./ssh-algorithms.ts";

/**
 * The CLI's side of the SSH door (no system `ssh` needed): connects as `<shed>@server`,
 * checks the server's host key against the pinned one (or the one its API serves), and
 * returns the session as an ExecProcess, so the terminal code of `shed exec` drives it.
 */
export interface SshExecOptions {
  /** A command string; a login shell when absent. */
  command?: string;
  tty?: { rows: number; cols: number; term?: string };
}

export async function sshExec(client: ApiClient, shed: string, opts: SshExecOptions): Promise<ExecProcess> {
  const endpoint = client.endpoint;
  const expected = Buffer.from((await trustedHostKey(client)).split(/\s+/)[1] ?? "", "base64");
  const conn = new Client();
  await new Promise<void>((resolve, reject) => {
    conn.once("ready", () => resolve());
    conn.once("error", (err) => {
      const level = (err as { level?: string }).level;
      const why =
        level === "client-authentication"
          ? `no key of yours is accepted by ${endpoint.name} (add your public key to the server's ssh authorized_keys)`
          : err.message;
      reject(new ShedError("SSH_FAILED", `SSH to ${shed}@${endpoint.host}:${endpoint.sshPort}: ${why}`, { cause: err }));
    });
    conn.connect({
      host: endpoint.host,
      port: endpoint.sshPort,
      username: shed,
      algorithms: SSH_ALGORITHMS,
      hostVerifier: (key: Buffer) => key.length === expected.length && timingSafeEqual(key, expected),
      authHandler: authMethods(shed),
      readyTimeout: 30_000,
      keepaliveInterval: 30_000,
    });
  });
  return new Promise<ExecProcess>((resolve, reject) => {
    // Listeners go on in the callback itself: a quick command's output, exit status and close
    // can arrive in the same packet as the exec's success.
    const done = (err: Error | undefined, ch: ClientChannel) => (err ? reject(err) : resolve(channelProcess(conn, ch)));
    const pty = opts.tty ? { rows: opts.tty.rows, cols: opts.tty.cols, term: opts.tty.term ?? "xterm-256color" } : undefined;
    if (opts.command === undefined) conn.shell(pty ?? false, done);
    else conn.exec(opts.command, pty ? { pty } : {}, done);
  });
}

/** Keys to offer: the user's ssh-agent first, then unencrypted default key files. */
export function authMethods(username: string): AuthenticationType[] | ((...a: unknown[]) => unknown) {
  const methods: Array<Record<string, unknown>> = [];
  if (process.env.SSH_AUTH_SOCK) methods.push({ type: "agent", username, agent: process.env.SSH_AUTH_SOCK });
  for (const name of ["id_ed25519", "id_ecdsa", "id_rsa"]) {
    const path = join(homedir(), ".ssh", name);
    if (!existsSync(path)) continue;
    const key = utils.parseKey(readFileSync(path));
    if (!(key instanceof Error)) methods.push({ type: "publickey", username, key });
  }
  let i = 0;
  return ((_methodsLeft: unknown, _partial: unknown, next: (m: unknown) => void) => next(methods[i++] ?? false)) as never;
}

function channelProcess(conn: Client, channel: ClientChannel): ExecProcess {
  let resolveExit!: (s: ExitStatus) => void;
  const exit = new Promise<ExitStatus>((r) => (resolveExit = r));
  let status: ExitStatus = { code: 255 };
  channel.on("exit", (code: number | null, signal?: string) => {
    if (signal) {
      // ssh2 reports exit-signal names with the SIG prefix ("SIGKILL").
      const name = signal.startsWith("SIG") ? signal : `SIG${signal}`;
      status = { code: 128 + (constants.signals[name as keyof typeof constants.signals] ?? 0), signal: name };
    } else status = { code: code ?? 255 };
  });
  channel.on("close", () => {
    resolveExit(status);
    conn.end();
  });
  conn.on("close", () => resolveExit(status));
  return {
    stdin: new WritableStream<Uint8Array>({
      write: (chunk) => new Promise<void>((resolve) => (channel.write(chunk) ? resolve() : channel.once("drain", () => resolve()))),
      close: () => void channel.end(),
    }),
    // A broken channel ends the output; the exit status (255) says what happened.
    stdout: webReadable(channel, { endOnError: true }),
    stderr: webReadable(channel.stderr, { endOnError: true }),
    resize: (rows, cols) => channel.setWindow(rows, cols, 0, 0),
    signal: (name) => channel.signal(name.replace(/^SIG/, "")),
    exit,
  };
}
