import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { utils } from "ssh2";
import { ShedError } from "../../api/errors.ts";
import { writeFileAtomic } from "../../fs/atomic-file.ts";

export interface HostKey {
  /** OpenSSH private key (PEM), for ssh2's server. */
  privateKey: string;
  /** `ssh-ed25519 AAAA...`: what /api/ssh-host-key serves and clients pin. */
  publicLine: string;
}

/** The server's ed25519 host key: made on first start, kept (0600) in the state dir. */
export function loadOrCreateHostKey(stateDir: string): HostKey {
  const path = join(stateDir, "ssh_host_ed25519_key");
  if (!existsSync(path)) {
    const pair = utils.generateKeyPairSync("ed25519", { comment: "shed-server" });
    writeFileAtomic(path, pair.private, 0o600);
  }
  const privateKey = readFileSync(path, "utf8");
  const parsed = utils.parseKey(privateKey);
  if (parsed instanceof Error) {
    throw new ShedError("INVALID_CONFIG", `the SSH host key ${path} cannot be read (${parsed.message}); move it away and a new one is made`);
  }
  const publicLine = `${parsed.type} ${parsed.getPublicSSH().toString("base64")}`;
  return { privateKey, publicLine };
}
