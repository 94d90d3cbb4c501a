import * as v from "valibot";

/**
 * The SSH door's bootstrap channel: a client whose key is in the server's authorized_keys
 * opens this subsystem and reads one JSON line: where the API is, the HTTPS certificate to
 * pin, and a fresh credential (a token, or in mtls a client certificate). The SSH host key
 * the client checked vouches for all of it, so nothing here is trusted on first use.
 */
export const BOOTSTRAP_SUBSYSTEM = "shed-bootstrap";

export const BootstrapAnswerSchema = v.object({
  name: v.string(),
  version: v.string(),
  mode: v.picklist(["open", "token", "mtls"]),
  httpPort: v.number(),
  httpsPort: v.optional(v.number()),
  sshPort: v.number(),
  tls: v.optional(v.object({ certificate: v.string(), fingerprint: v.string() })),
  token: v.optional(v.object({ id: v.string(), token: v.string(), expiresAt: v.string() })),
  clientCertificate: v.optional(v.object({ cert: v.string(), key: v.string(), ca: v.string(), fingerprint: v.string(), expiresAt: v.string() })),
});
export type BootstrapAnswer = v.InferOutput<typeof BootstrapAnswerSchema>;

/** `SHA256:base64` (no padding) of an SSH public key blob: what `ssh-keygen -lf` prints. */
export function sshFingerprint(blob: Uint8Array): string {
  const hash = new Bun.CryptoHasher("sha256").update(blob).digest("base64");
  return `SHA256:${hash.replace(/=+$/, "")}`;
}
