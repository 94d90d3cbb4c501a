import type { Algorithms } from "ssh2";

/**
 * What the SSH door offers and the CLI's SSH client asks for: modern algorithms only (no
 * SHA-1, no CBC, no NIST-curve key exchange, no encrypt-and-MAC), so ssh-audit finds nothing weak.
 * ssh2 adds strict KEX (kex-strict-s-v00@openssh.com) by itself. chacha20-poly1305 is absent
 * because ssh2 offers it only with its native addon, which a compiled binary does not carry.
 */
export const SSH_ALGORITHMS: Algorithms = {
  kex: [
    "curve25519-sha256",
    "curve25519-sha256@libssh.org",
    "diffie-hellman-group16-sha512",
    "diffie-hellman-group18-sha512",
  ],
  cipher: ["aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "aes128-ctr", "aes192-ctr", "aes256-ctr"],
  hmac: ["hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com"],
  serverHostKey: ["ssh-ed25519"],
  compress: ["none"],
};

/** User key types accepted (rsa only with SHA-2 signatures). */
export const USER_KEY_TYPES = new Set([
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "rsa-sha2-256",
  "rsa-sha2-512",
  "ssh-rsa",
]);
