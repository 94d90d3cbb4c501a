import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { isIP } from "node:net";
import { join } from "node:path";
import { ShedError } from "../../api/errors.ts";
import { writeFileAtomic } from "../../fs/atomic-file.ts";
import { expandHome } from "../../fs/home-path.ts";

export interface ServerCertificate {
  cert: string;
  key: string;
  /** SHA-256 of the DER certificate, `AB:CD:...` (what clients pin; Bun's `fingerprint256`). */
  fingerprint: string;
}

export interface CertificateOptions {
  stateDir: string;
  name: string;
  bindAddress: string;
  certFile?: string;
  keyFile?: string;
  names: string[];
}

/**
 * The HTTPS certificate: the operator's own files (tls_cert_file, tls_key_file), or one the
 * server makes on first start (P-256, ten years, self-signed: clients pin it, so no CA is
 * involved) and keeps 0600 in the state dir. Its SANs: localhost, the host name, the bind
 * address and tls_names; a change of tls_names makes a new one (clients then re-pin).
 */
export function loadOrCreateCertificate(opts: CertificateOptions): ServerCertificate {
  if (opts.certFile && opts.keyFile) return readPair(expandHome(opts.certFile), expandHome(opts.keyFile));
  const certPath = join(opts.stateDir, "tls", "server.crt");
  const keyPath = join(opts.stateDir, "tls", "server.key");
  const namesPath = join(opts.stateDir, "tls", "names");
  const sans = subjectAltNames(opts);
  if (existsSync(certPath) && existsSync(keyPath) && existsSync(namesPath) && readFileSync(namesPath, "utf8") === sans.join(",")) {
    return readPair(certPath, keyPath);
  }
  mkdirSync(join(opts.stateDir, "tls"), { recursive: true, mode: 0o700 });
  const made = selfSigned(opts.name, sans);
  writeFileAtomic(keyPath, made.key, 0o600);
  writeFileAtomic(certPath, made.cert, 0o600);
  writeFileAtomic(namesPath, sans.join(","), 0o600);
  return readPair(certPath, keyPath);
}

/** `openssl req -x509`: Debian's openssl (a dependency of OpenSSH, which the SSH door's users have anyway). */
export function selfSigned(commonName: string, sans: string[], extra: string[] = ["extendedKeyUsage=serverAuth"]): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), "shed-tls-"));
  try {
    const args = [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "3650",
      "-subj", `/CN=${commonName.replace(/[/=\\+,]/g, "-").slice(0, 64)}`,
      "-addext", "basicConstraints=critical,CA:FALSE",
      ...extra.flatMap((e) => ["-addext", e]),
      ...(sans.length ? ["-addext", `subjectAltName=${sans.join(",")}`] : []),
    ];
    runOpenssl(args);
    return { cert: readFileSync(join(dir, "cert.pem"), "utf8"), key: readFileSync(join(dir, "key.pem"), "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function runOpenssl(args: string[], stdin?: string): string {
  const bin = Bun.which("openssl");
  if (!bin) throw new ShedError("INVALID_CONFIG", "HTTPS needs openssl to make the server's certificate: apt-get install openssl (or set tls_cert_file and tls_key_file)");
  const proc = Bun.spawnSync([bin, ...args], { stdin: stdin === undefined ? "ignore" : Buffer.from(stdin), stdout: "pipe", stderr: "pipe" });
  if (proc.exitCode !== 0) {
    const why = proc.stderr.toString().split("\n").filter((l) => l.trim() && !/^[-.+*]+$/.test(l.trim()));
    throw new ShedError("INTERNAL", `openssl ${args[0]} failed: ${why.at(-1) ?? `exit ${proc.exitCode}`}`);
  }
  return proc.stdout.toString();
}

export function fingerprintOf(certPem: string): string {
  return new X509Certificate(certPem).fingerprint256;
}

function readPair(certPath: string, keyPath: string): ServerCertificate {
  let cert: string;
  let key: string;
  try {
    cert = readFileSync(certPath, "utf8");
    key = readFileSync(keyPath, "utf8");
  } catch (err) {
    throw new ShedError("INVALID_CONFIG", `cannot read the TLS certificate or key (${certPath}, ${keyPath}): ${(err as NodeJS.ErrnoException).code ?? err}; check tls_cert_file and tls_key_file`, { cause: err });
  }
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new ShedError("INVALID_CONFIG", `${certPath} is not a PEM certificate; check tls_cert_file`, { cause: err });
  }
  if (!x509.checkPrivateKey(privateKeyOf(key, keyPath))) {
    throw new ShedError("INVALID_CONFIG", `${keyPath} is not the key of ${certPath}; check tls_cert_file and tls_key_file`);
  }
  return { cert, key, fingerprint: x509.fingerprint256 };
}

function privateKeyOf(pem: string, path: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (err) {
    throw new ShedError("INVALID_CONFIG", `${path} is not an unencrypted PEM private key; check tls_key_file`, { cause: err });
  }
}

function subjectAltNames(opts: CertificateOptions): string[] {
  const names = new Set(["localhost", hostname(), opts.bindAddress, "127.0.0.1", "::1", ...opts.names]);
  return [...names]
    .filter((n) => n && n !== "0.0.0.0" && n !== "::")
    .map((n) => (isIP(n) ? `IP:${n}` : `DNS:${n}`));
}
