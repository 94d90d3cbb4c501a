import type { Connection, ServerChannel, Session } from "ssh2";
import { BOOTSTRAP_SUBSYSTEM } from "../../api/bootstrap.ts";
import type { AgentConnection, ExecRequest } from "../../agent/protocol/api.ts";
import type { Logger } from "../../log/logger.ts";
import { type ForwardedAgent, forwardSshAgent } from "./agent-forwarding.ts";
import { relayProcess } from "./relay.ts";

/** Environment a client may send (as OpenSSH's default AcceptEnv): locale and terminal hints. */
const ACCEPTED_ENV = /^(LANG|LC_[A-Z_]+|COLORTERM|TERM_PROGRAM|TERM_PROGRAM_VERSION)$/;

/** Finds the image's sftp-server wherever its distribution puts it. */
const SFTP_SERVER = [
  "for p in /usr/lib/openssh/sftp-server /usr/libexec/openssh/sftp-server /usr/lib/ssh/sftp-server /usr/libexec/sftp-server /usr/lib/sftp-server; do",
  '  [ -x "$p" ] && exec "$p";',
  "done",
  'echo "shed: this shed has no sftp-server (install openssh-sftp-server in its image)" >&2',
  "exit 127",
].join("\n");

type Channel = Parameters<typeof relayProcess>[0];

export interface SessionDeps {
  shed: string;
  /** The SSH connection, for channels back to the client (agent forwarding). */
  client: Connection;
  /** The shed's agent, or a ShedError saying why there is none. */
  agent(): Promise<AgentConnection>;
  logger: Logger;
  /** The bootstrap subsystem (src/api/bootstrap.ts): answered by the door, never by the shed. */
  bootstrap(channel: ServerChannel): void;
}

/**
 * One SSH session channel: collects pty/env requests, then runs a shell, a command or the
 * sftp subsystem through the shed's agent, as the shed user.
 */
export function handleSession(session: Session, deps: SessionDeps): void {
  const env: Record<string, string> = {};
  let tty: ExecRequest["tty"];
  let proc: Awaited<ReturnType<AgentConnection["exec"]>> | undefined;
  let wantsAgent = false;
  let forwarded: ForwardedAgent | undefined;

  session.on("pty", (accept, _reject, info) => {
    tty = { rows: info.rows || 24, cols: info.cols || 80, term: info.term || "xterm-256color" };
    accept?.();
  });
  session.on("env", (accept, reject, info) => {
    if (ACCEPTED_ENV.test(info.key)) {
      env[info.key] = info.val;
      accept?.();
    } else reject?.();
  });
  session.on("window-change", (accept, _reject, info) => {
    if (tty) tty = { ...tty, rows: info.rows, cols: info.cols };
    proc?.resize(info.rows, info.cols);
    accept?.();
  });
  session.on("auth-agent", (accept) => {
    wantsAgent = true;
    accept?.();
  });
  session.on("signal", (accept, _reject, info) => {
    proc?.signal(`SIG${info.name}`);
    accept?.();
  });

  const run = async (channel: Channel, req: ExecRequest, what: string) => {
    try {
      const agent = await deps.agent();
      if (wantsAgent) {
        forwarded = await forwardSshAgent(deps.client, agent, "shed", deps.logger);
        env.SSH_AUTH_SOCK = forwarded.socketPath;
      }
      proc = await agent.exec({ ...req, env: { ...env, ...req.env }, ...(tty ? { tty } : {}) });
    } catch (err) {
      forwarded?.close();
      channel.stderr.write(`shed: ${(err as Error).message}\r\n`);
      channel.exit(1);
      channel.end();
      return;
    }
    deps.logger.debug("ssh session", { shed: deps.shed, what, tty: Boolean(tty), agentForwarding: Boolean(forwarded) });
    await relayProcess(channel, proc);
    forwarded?.close();
  };

  session.on("shell", (accept) => {
    // The user's own login shell (SHELL comes from the guest's passwd), started once.
    void run(accept() as unknown as Channel, { argv: ["/bin/sh", "-c", 'exec "$SHELL" -l'], login: false }, "shell");
  });
  session.on("exec", (accept, _reject, info) => {
    void run(accept() as unknown as Channel, { command: info.command }, "exec");
  });
  session.on("subsystem", (accept, reject, info) => {
    if (info.name === BOOTSTRAP_SUBSYSTEM) return deps.bootstrap(accept());
    if (info.name !== "sftp") return reject?.();
    tty = undefined;
    void run(accept() as unknown as Channel, { argv: ["/bin/sh", "-c", SFTP_SERVER], login: false }, "sftp");
  });
}
