import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeFileAtomic } from "../../fs/atomic-file.ts";
import { fingerprintOf, runOpenssl } from "./certificate.ts";

export interface SignedClientCertificate {
  cert: string;
  key: string;
  fingerprint: string;
  /** The certificate's serial, hex (what `shed-server token list` shows beside its record). */
  serial: string;
  /** Its notAfter, to the second: the TLS layer refuses it from then on. */
  expiresAt: string;
}

export interface ClientCa {
  /** PEM of the CA: what the HTTPS listener verifies client certificates against. */
  cert: string;
  /** A client certificate and its key for `label`, valid for exactly `ttlSeconds` (rounded up to the second). */
  sign(label: string, ttlSeconds: number, serial: string, now?: number): SignedClientCertificate;
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
    sign(label, ttlSeconds, serial, now = Date.now()) {
      const tmp = mkdtempSync(join(tmpdir(), "shed-client-"));
      try {
        runOpenssl([
          "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
          "-keyout", join(tmp, "key.pem"), "-out", join(tmp, "req.csr"), "-subj", `/CN=${label.replace(/[/=\\+,]/g, "-").slice(0, 64)}`,
        ]);
        // `openssl ca` (not `x509 -req`, which counts in whole days) sets notAfter to the
        // second; its database lives in the temp dir: the token store is the record kept.
        writeFileSync(join(tmp, "index.txt"), "");
        writeFileSync(join(tmp, "serial"), `${serial}\n`);
        writeFileSync(join(tmp, "ext"), "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n");
        writeFileSync(
          join(tmp, "ca.cnf"),
          [
            "[ca]", "default_ca = shed", "[shed]", `database = ${join(tmp, "index.txt")}`, `new_certs_dir = ${tmp}`, `serial = ${join(tmp, "serial")}`,
            `certificate = ${certPath}`, `private_key = ${keyPath}`, "default_md = sha256", "policy = any", "unique_subject = no", "copy_extensions = none",
            "[any]", "commonName = supplied", "",
          ].join("\n"),
        );
        const end = new Date(Math.ceil((now + ttlSeconds * 1000) / 1000) * 1000);
        runOpenssl([
          "ca", "-batch", "-notext", "-config", join(tmp, "ca.cnf"), "-in", join(tmp, "req.csr"), "-out", join(tmp, "cert.pem"),
          // A minute back: a client clock slightly behind the server's still takes it.
          "-startdate", asn1Time(new Date(now - 60_000)), "-enddate", asn1Time(end), "-extfile", join(tmp, "ext"),
        ]);
        const signed = readFileSync(join(tmp, "cert.pem"), "utf8");
        return { cert: signed, key: readFileSync(join(tmp, "key.pem"), "utf8"), fingerprint: fingerprintOf(signed), serial, expiresAt: end.toISOString() };
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    },
  };
}

/** YYMMDDHHMMSSZ: UTCTime, what RFC 5280 wants for dates before 2050 (GeneralizedTime after). */
function asn1Time(d: Date): string {
  const digits = d.toISOString().replace(/[-:T]/g, "");
  return `${d.getUTCFullYear() < 2050 ? digits.slice(2, 14) : digits.slice(0, 14)}Z`;
}
