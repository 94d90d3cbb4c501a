import { timingSafeEqual } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { utils } from "ssh2";
import { expandHome } from "../../fs/home-path.ts";

/**
 * Public keys from authorized_keys files (OpenSSH format; options before the key are
 * skipped). Files are re-read when they change, so adding a key needs no restart. Keys are
 * compared in constant time, against every entry.
 */
export class AuthorizedKeys {
  private cache = new Map<string, { mtimeMs: number; keys: Buffer[] }>();

  constructor(private readonly files: string[]) {}

  /** The files as read (with ~ expanded). */
  paths(): string[] {
    return this.files.map(expandHome);
  }

  has(publicKeyBlob: Buffer): boolean {
    let found = false;
    for (const key of this.keys()) {
      if (key.length === publicKeyBlob.length && timingSafeEqual(key, publicKeyBlob)) found = true;
    }
    return found;
  }

  count(): number {
    return this.keys().length;
  }

  private keys(): Buffer[] {
    const out: Buffer[] = [];
    for (const path of this.paths()) {
      if (!existsSync(path)) continue;
      const mtimeMs = statSync(path).mtimeMs;
      let entry = this.cache.get(path);
      if (!entry || entry.mtimeMs !== mtimeMs) {
        entry = { mtimeMs, keys: parseAuthorizedKeys(readFileSync(path, "utf8")) };
        this.cache.set(path, entry);
      }
      out.push(...entry.keys);
    }
    return out;
  }
}

export function parseAuthorizedKeys(text: string): Buffer[] {
  const keys: Buffer[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    // `[options] type base64 [comment]`: find the type token, the blob follows it.
    const fields = line.split(/\s+/);
    const at = fields.findIndex((f) => /^(ssh-|ecdsa-sha2-|sk-)/.test(f));
    if (at < 0 || !fields[at + 1]) continue;
    const parsed = utils.parseKey(`${fields[at]} ${fields[at + 1]}`);
    if (parsed instanceof Error) continue;
    keys.push(parsed.getPublicSSH());
  }
  return keys;
}
