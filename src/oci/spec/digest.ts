import { ShedError } from "../../api/errors.ts";

/** A content digest, `sha256:<64 hex>`: the only algorithm registries and stores here use. */
export type Digest = `sha256:${string}`;

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export function isDigest(s: string): s is Digest {
  return DIGEST_RE.test(s);
}

/** Checks a digest from untrusted input (a manifest, a path, a header) before it names a file. */
export function parseDigest(s: string, where: string): Digest {
  if (isDigest(s)) return s;
  const algo = s.includes(":") ? s.slice(0, s.indexOf(":")) : undefined;
  const why = algo && algo !== "sha256" ? `the ${algo} algorithm is not supported (only sha256)` : "not sha256:<64 hex digits>";
  throw new ShedError("INVALID_REQUEST", `invalid digest "${s.slice(0, 80)}" in ${where}: ${why}`);
}

export function digestHex(d: Digest): string {
  return d.slice("sha256:".length);
}

/** The 12-hex-digit form people see (like `docker images`). */
export function shortDigest(d: string): string {
  return d.replace(/^sha256:/, "").slice(0, 12);
}

export function sha256Digest(bytes: Uint8Array | string): Digest {
  return `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`;
}

/** A running sha256 with a byte count: how every blob is checked while it streams. */
export class DigestWriter {
  private hasher = new Bun.CryptoHasher("sha256");
  size = 0;

  update(chunk: Uint8Array): void {
    this.hasher.update(chunk);
    this.size += chunk.byteLength;
  }

  digest(): Digest {
    return `sha256:${this.hasher.digest("hex")}`;
  }
}
