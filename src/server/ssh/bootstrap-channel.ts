import type { ServerChannel } from "ssh2";
import { sshFingerprint } from "../../api/bootstrap.ts";
import { toShedError } from "../../api/errors.ts";
import type { Logger } from "../../log/logger.ts";
import type { AuthorizedKeys } from "./authorized-keys.ts";
import type { BootstrapService } from "./bootstrap.ts";

export interface BootstrapChannelDeps {
  /** The key the connection authenticated with; none when ssh.auth is off. */
  key: Buffer | undefined;
  keys: AuthorizedKeys;
  remote: string | undefined;
  service: BootstrapService | undefined;
  logger: Logger;
}

/**
 * One bootstrap: the key must be in authorized_keys now (whatever ssh.auth let in, and read
 * again: a key removed since the connection began gets nothing). The answer is one JSON line
 * and exit 0; a refusal is `{"error":{code,message}}` and exit 1, logged with the key's
 * fingerprint. The token itself is never logged.
 */
export function answerBootstrap(channel: ServerChannel, deps: BootstrapChannelDeps): void {
  const fingerprint = deps.key ? sshFingerprint(deps.key) : "(no key)";
  const finish = (body: unknown, code: number) => {
    channel.write(`${JSON.stringify(body)}\n`);
    channel.exit(code);
    channel.end();
  };
  if (!deps.key || !deps.keys.has(deps.key)) {
    deps.logger.warn("ssh: bootstrap refused: key not in authorized_keys", { key: fingerprint, remote: deps.remote, files: deps.keys.paths() });
    finish({ error: { code: "UNAUTHORIZED", message: `your key ${fingerprint} is not in the server's ssh authorized_keys (${deps.keys.paths().join(", ")}): add it there, then run this again` } }, 1);
    return;
  }
  if (!deps.service) {
    finish({ error: { code: "UNSUPPORTED", message: "this server has no bootstrap" } }, 1);
    return;
  }
  try {
    const answer = deps.service(`${fingerprint} from ${deps.remote ?? "?"}`);
    deps.logger.info("ssh: bootstrap", { key: fingerprint, remote: deps.remote, mode: answer.mode, ...(answer.token ? { tokenId: answer.token.id } : {}) });
    finish(answer, 0);
  } catch (err) {
    const e = toShedError(err);
    deps.logger.error("ssh: bootstrap failed", { key: fingerprint, code: e.code, error: e.message });
    finish({ error: { code: e.code, message: e.message } }, 1);
  }
}
