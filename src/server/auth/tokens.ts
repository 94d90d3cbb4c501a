import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { ShedError } from "../../api/errors.ts";
import { writeFileAtomic } from "../../fs/atomic-file.ts";

/**
 * API tokens, minted by the SSH door's bootstrap and kept only as SHA-256 hashes in
 * `<state_dir>/tokens.json` (0600). A token is `shed_<id>_<secret>`: the id finds its record,
 * the secret's hash is compared in constant time. 32 random bytes need no slow hash: there is
 * nothing to guess. `shed-server token revoke` edits the same file; the running server sees a
 * change at its next request (the file's mtime, size and inode are checked each time).
 */
const RecordSchema = v.object({
  id: v.string(),
  hash: v.string(),
  label: v.string(),
  createdAt: v.string(),
  expiresAt: v.string(),
});
const FileSchema = v.object({ tokens: v.array(RecordSchema) });

export type TokenRecord = v.InferOutput<typeof RecordSchema>;
export type TokenCheck = { ok: true; record: TokenRecord } | { ok: false; reason: "unknown" | "expired" | "malformed" };

export interface MintedToken {
  id: string;
  token: string;
  expiresAt: string;
}

const KEEP_EXPIRED_MS = 7 * 86_400_000;
const TOKEN = /^shed_([a-f0-9]{12})_([A-Za-z0-9_-]{43})$/;

export class TokenStore {
  private readonly path: string;
  private cache: { stamp: string; records: TokenRecord[] } | undefined;

  constructor(stateDir: string) {
    this.path = join(stateDir, "tokens.json");
  }

  mint(ttlSeconds: number, label: string, now = Date.now()): MintedToken {
    const id = randomBytes(6).toString("hex");
    const secret = randomBytes(32).toString("base64url");
    const record: TokenRecord = {
      id,
      hash: sha256(secret),
      label,
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + ttlSeconds * 1000).toISOString(),
    };
    // Tokens a week past expiry are dropped whenever a new one is written, so the file does
    // not grow; until then a late client is told "expired" (and refreshes), not "unknown".
    this.write([...this.list().filter((r) => Date.parse(r.expiresAt) > now - KEEP_EXPIRED_MS), record]);
    return { id, token: `shed_${id}_${secret}`, expiresAt: record.expiresAt };
  }

  check(token: string, now = Date.now()): TokenCheck {
    const match = TOKEN.exec(token);
    if (!match) return { ok: false, reason: "malformed" };
    const record = this.list().find((r) => r.id === match[1]);
    // Hash anyway when the id is unknown: the answer takes as long either way.
    const given = Buffer.from(sha256(match[2]!), "hex");
    const expected = Buffer.from(record?.hash ?? "0".repeat(64), "hex");
    const equal = given.length === expected.length && timingSafeEqual(given, expected);
    if (!record || !equal) return { ok: false, reason: "unknown" };
    if (Date.parse(record.expiresAt) <= now) return { ok: false, reason: "expired" };
    return { ok: true, record };
  }

  list(): TokenRecord[] {
    if (!existsSync(this.path)) return [];
    const st = statSync(this.path);
    const stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
    if (this.cache?.stamp !== stamp) {
      const parsed = v.safeParse(FileSchema, safeJson(readFileSync(this.path, "utf8")));
      if (!parsed.success) {
        throw new ShedError("INVALID_CONFIG", `${this.path} is not a token file shed wrote; move it away (every token is then revoked)`);
      }
      this.cache = { stamp, records: parsed.output.tokens };
    }
    return this.cache.records;
  }

  /** Removes one token by id; false when there is none. */
  revoke(id: string): boolean {
    const records = this.list();
    const kept = records.filter((r) => r.id !== id);
    if (kept.length === records.length) return false;
    this.write(kept);
    return true;
  }

  /** Removes every token; returns how many there were. */
  revokeAll(): number {
    const n = this.list().length;
    this.write([]);
    return n;
  }

  private write(records: TokenRecord[]): void {
    writeFileAtomic(this.path, `${JSON.stringify({ tokens: records }, null, 2)}\n`, 0o600);
    this.cache = undefined;
  }
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
