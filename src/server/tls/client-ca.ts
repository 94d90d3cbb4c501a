import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeFileAtomic } from "../../fs/atomic-file.ts";
import { fingerprintOf, runOpenssl } from "./certificate.ts";

export interface ClientCa {
  /** PEM of the CA: what the HTTPS listener verifies client certificates against. */
  cert: string;
  /** A client certificate and its key for `label`, good for about `ttlSeconds` (whole days: openssl x509 counts in days). */
  sign(label: string, ttlSeconds: number): { cert: string; key: string; fingerprint: string; expiresAt: string };
}

/** auth.mode mtls: the server's own CA (P-256, 0600 in the state dir) that signs the certificates the SSH door hands out. */
export function loadOrCreateClientCa(stateDir: string, serverName: string): ClientCa {
  const dir = join(stateDir, "tls");
  const certPath = join(dir, "client-ca.crt");
  const keyPath = join(dir, "client-ca.key");
  if (!existsSync(certPath) || !existsSync(keyPath)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = mkdtempSync(join(tmpdir(), "shed-ca-"));
    try {
      runOpenssl([
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", join(tmp, "key.pem"), "-out", join(tmp, "cert.pem"), "-days", "3650",
        "-subj", `/CN=${serverName.replace(/[/=\\+,]/g, "-").slice(0, 40)} shed client CA`,
        "-addext", "basicConstraints=critical,CA:TRUE,pathlen:0",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
      ]);
      writeFileAtomic(keyPath, readFileSync(join(tmp, "key.pem")), 0o600);
      writeFileAtomic(certPath, readFileSync(join(tmp, "cert.pem")), 0o600);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  const cert = readFileSync(certPath, "utf8");
  return {
    cert,
    sign(label, ttlSeconds) {
      const tmp = mkdtempSync(join(tmpdir(), "shed-client-"));
      try {
        const days = String(Math.max(1, Math.ceil(ttlSeconds / 86_400)));
        runOpenssl([
          "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
          "-keyout", join(tmp, "key.pem"), "-out", join(tmp, "req.csr"), "-subj", `/CN=${label.replace(/[/=\\+,]/g, "-").slice(0, 64)}`,
        ]);
        writeFileSync(join(tmp, "ext"), "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n");
        runOpenssl([
          "x509", "-req", "-in", join(tmp, "req.csr"), "-CA", certPath, "-CAkey", keyPath,
          "-set_serial", `0x${randomBytes(16).toString("hex")}`, "-days", days, "-extfile", join(tmp, "ext"), "-out", join(tmp, "cert.pem"),
        ]);
        const signed = readFileSync(join(tmp, "cert.pem"), "utf8");
        return {
          cert: signed,
          key: readFileSync(join(tmp, "key.pem"), "utf8"),
          fingerprint: fingerprintOf(signed),
          expiresAt: new Date(Date.now() + Number(days) * 86_400_000).toISOString(),
        };
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    },
  };
}
