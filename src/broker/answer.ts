import { existsSync } from "node:fs";
import { hostname, userInfo } from "node:os";
import { ShedError } from "../api/errors.ts";
import type { AwsCredentialSource } from "./aws-credentials.ts";
import { dockerConfigPath, dockerCredentials } from "./docker-credentials.ts";
import { askLocalSshAgent } from "./local-ssh-agent.ts";
import type { BrokerRequest, StatusResult } from "./messages.ts";
import { inspectRequest, parseIdentities, replyFits, SSH_AGENTC_REQUEST_IDENTITIES } from "./ssh-agent-filter.ts";

export interface AnswerOptions {
  /** The user's ssh-agent (SSH_AUTH_SOCK where the broker runs). */
  sshAuthSock?: string;
  aws: AwsCredentialSource;
  env?: NodeJS.ProcessEnv;
  /** `--confirm`: asked before each signature; false refuses it. */
  confirmSign?: (question: string) => Promise<boolean>;
}

/**
 * What `shed broker` answers, on the user's machine. The server already filtered the
 * request; the broker checks again, since it is the side holding the keys.
 */
export async function answer(req: BrokerRequest, opts: AnswerOptions): Promise<Record<string, unknown>> {
  switch (req.kind) {
    case "ssh": {
      const msg = Buffer.from(req.message, "base64");
      const what = inspectRequest(msg);
      if (!what.allowed) throw new ShedError("BROKER_REFUSED", `SSH agent message type ${what.type} is not brokered`);
      if (what.kind === "sign" && opts.confirmSign) {
        const ok = await opts.confirmSign(`shed "${req.shed}" asks to sign with ${what.keyType} ${what.fingerprint}. Allow?`);
        if (!ok) throw new ShedError("BROKER_REFUSED", `the broker's user declined a signature with ${what.fingerprint}`);
      }
      const reply = await askLocalSshAgent(opts.sshAuthSock, msg);
      if (!replyFits(what, reply)) throw new ShedError("BROKER_REFUSED", "the broker's ssh-agent answered out of protocol");
      return { message: Buffer.from(reply).toString("base64") };
    }
    case "docker":
      return { ...(await dockerCredentials(req.serverURL, opts.env)) };
    case "aws":
      return { ...(await opts.aws.get()) };
    case "status":
      return { ...(await status(opts)) };
  }
}

async function status(opts: AnswerOptions): Promise<StatusResult> {
  let ssh: string;
  try {
    const keys = parseIdentities(await askLocalSshAgent(opts.sshAuthSock, Uint8Array.of(SSH_AGENTC_REQUEST_IDENTITIES)));
    ssh = `ok (${keys.length} key${keys.length === 1 ? "" : "s"}${opts.confirmSign ? ", signatures confirmed" : ""})`;
  } catch (err) {
    ssh = `unavailable: ${(err as Error).message}`;
  }
  const dockerConfig = dockerConfigPath(opts.env);
  return {
    host: `${userInfo().username}@${hostname()}`,
    ssh,
    docker: existsSync(dockerConfig) ? `ok (${dockerConfig})` : `no Docker configuration (${dockerConfig})`,
    aws: opts.aws.describe(),
  };
}
