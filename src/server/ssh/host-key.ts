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
  if (!existsSync(path)) writeFileAtomic(path, generateHostKey(), 0o600);
  const privateKey = readFileSync(path, "utf8");
  const parsed = utils.parseKey(privateKey);
  if (parsed instanceof Error) {
    throw new ShedError("INVALID_CONFIG", `the SSH host key ${path} cannot be read (${parsed.message}); move it away and a new one is made`);
  }
  const publicLine = `${parsed.type} ${parsed.getPublicSSH().toString("base64")}`;
  return { privateKey, publicLine };
}

/**
 * ssh2's generator, under Bun, drops a leading zero byte of the public key about once in 256
 * keys (a 31-byte ed25519 key its own parser then refuses, and the server would not start):
 * such a key is thrown away and another made.
 */
function generateHostKey(): string {
  for (let i = 0; i < 16; i++) {
    const pair = utils.generateKeyPairSync("ed25519", { comment: "shed-server" });
    if (!(utils.parseKey(pair.private) instanceof Error)) return pair.private;
  }
  throw new ShedError("INTERNAL", "could not make an SSH host key that reads back");
}
