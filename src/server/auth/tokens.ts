import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { ShedError } from "../../api/errors.ts";
import { writeFileAtomic } from "../../fs/atomic-file.ts";

/**
 * API tokens, minted by the SSH door's bootstrap and kept only as SHA-256 hashes in
 * `<state_dir>/tokens.json` (0600). In mtls each client certificate comes with a token of the
 * same expiry, its record naming the certificate's serial: Bun's server does not show a handler
 * the peer certificate, so the token is what makes a revoked certificate useless at once. A token is `shed_<id>_<secret>`: the id finds its record,
 * the secret's hash is compared in constant time. 32 random bytes need no slow hash: there is
 * nothing to guess. Revocations (`shed-server token revoke`, another process) go to their own
 * file, `tokens-revoked.json`, so each file has one writer and a revocation can never be
 * overwritten by a mint; the running server sees either change at its next request (each
 * file's inode, size and mtime are checked every time).
 */
const RecordSchema = v.object({
  id: v.string(),
  hash: v.string(),
  label: v.string(),
  createdAt: v.string(),
  expiresAt: v.string(),
  /** mtls: the record belongs to a client certificate (its serial), sent with its token; absent: a plain token. */
  certSerial: v.optional(v.string()),
});
const FileSchema = v.object({ tokens: v.array(RecordSchema) });
const RevokedSchema = v.object({ ids: v.array(v.string()), allBefore: v.optional(v.string()) });
type Revoked = v.InferOutput<typeof RevokedSchema>;

export type TokenRecord = v.InferOutput<typeof RecordSchema>;
export type TokenCheck = { ok: true; record: TokenRecord } | { ok: false; reason: "unknown" | "expired" | "malformed" };

export interface MintedToken {
  id: string;
  token: string;
  expiresAt: string;
}

const KEEP_EXPIRED_MS = 7 * 86_400_000;
/** A minted token: `shed_<id>_<secret>`, the secret 32 bytes of base64url (it may hold "_"). */
export const TOKEN = /^shed_([a-f0-9]{12})_([A-Za-z0-9_-]{43})$/;

export class TokenStore {
  private readonly minted: JsonFile<{ tokens: TokenRecord[] }>;
  private readonly revoked: JsonFile<Revoked>;

  constructor(stateDir: string) {
    this.minted = new JsonFile(join(stateDir, "tokens.json"), FileSchema, { tokens: [] });
    this.revoked = new JsonFile(join(stateDir, "tokens-revoked.json"), RevokedSchema, { ids: [] });
  }

  /** A new token; `certSerial` binds it to the mtls client certificate handed out with it. */
  mint(ttlSeconds: number, label: string, now = Date.now(), certSerial?: string): MintedToken {
    const id = randomBytes(6).toString("hex");
    const secret = randomBytes(32).toString("base64url");
    const record: TokenRecord = {
      id,
      hash: sha256(secret),
      label,
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + ttlSeconds * 1000).toISOString(),
      ...(certSerial ? { certSerial } : {}),
    };
    // Tokens a week past expiry are dropped whenever a new one is written, so the file does
    // not grow; until then a late client is told "expired" (and refreshes), not "unknown".
    const kept = this.minted.read().tokens.filter((r) => Date.parse(r.expiresAt) > now - KEEP_EXPIRED_MS);
    this.minted.write({ tokens: [...kept, record] });
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

  /** The tokens not revoked (expired ones included, marked by their expiresAt). */
  list(): TokenRecord[] {
    const revoked = this.revoked.read();
    const ids = new Set(revoked.ids);
    const before = revoked.allBefore ? Date.parse(revoked.allBefore) : Number.NEGATIVE_INFINITY;
    return this.minted.read().tokens.filter((r) => !ids.has(r.id) && Date.parse(r.createdAt) > before);
  }

  /** Revokes one token by id; false when there is none. */
  revoke(id: string): boolean {
    if (!this.list().some((r) => r.id === id)) return false;
    const revoked = this.revoked.read();
    this.revoked.write({ ...revoked, ids: [...revoked.ids, id] });
    return true;
  }

  /** Revokes every token minted until now; returns how many were valid or expired. */
  revokeAll(now = Date.now()): number {
    const n = this.list().length;
    this.revoked.write({ ids: [], allBefore: new Date(now).toISOString() });
    return n;
  }
}

/** A small JSON file read again only when it changed (inode, size, mtime), written atomically 0600. */
class JsonFile<T> {
  private cache: { stamp: string; value: T } | undefined;

  constructor(
    private readonly path: string,
    private readonly schema: v.GenericSchema<unknown, T>,
    private readonly empty: T,
  ) {}

  read(): T {
    if (!existsSync(this.path)) return this.empty;
    const st = statSync(this.path);
    const stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
    if (this.cache?.stamp !== stamp) {
      const parsed = v.safeParse(this.schema, safeJson(readFileSync(this.path, "utf8")));
      if (!parsed.success) {
        throw new ShedError("INVALID_CONFIG", `${this.path} is not a token file shed wrote; move it away (for tokens.json: every token is then revoked)`);
      }
      this.cache = { stamp, value: parsed.output };
    }
    return this.cache.value;
  }

  write(value: T): void {
    writeFileAtomic(this.path, `${JSON.stringify(value, null, 2)}\n`, 0o600);
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
