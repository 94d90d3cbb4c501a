import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { TokenStore } from "./tokens.ts";

describe("TokenStore", () => {
  const dirs: string[] = [];
  const store = () => {
    const dir = mkdtempSync(join(tmpdir(), "shed-tokens-"));
    dirs.push(dir);
    return { dir, tokens: new TokenStore(dir) };
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it("keeps only hashes, 0600, and checks tokens by id and secret", () => {
    const { dir, tokens } = store();
    const minted = tokens.mint(60, "SHA256:abc from 10.0.0.1");
    const file = readFileSync(join(dir, "tokens.json"), "utf8");
    // The secret is base64url, so it may hold "_" itself: everything after the id is the secret.
    expect(file).not.toContain(minted.token.split("_").slice(2).join("_"));
    expect(statSync(join(dir, "tokens.json")).mode & 0o777).toBe(0o600);
    expect(tokens.check(minted.token).ok).toBe(true);
    const wrong = `${minted.token.slice(0, -2)}xx`;
    expect(tokens.check(wrong)).toEqual({ ok: false, reason: "unknown" });
    expect(tokens.check("Bearer nonsense")).toEqual({ ok: false, reason: "malformed" });
    expect(tokens.check(minted.token, Date.now() + 61_000)).toEqual({ ok: false, reason: "expired" });
  });

  it("revokes one or all, seen by another store on the same dir (the running server)", () => {
    const { dir, tokens } = store();
    const a = tokens.mint(60, "a");
    const b = tokens.mint(60, "b");
    const server = new TokenStore(dir);
    expect(server.check(a.token).ok).toBe(true);
    expect(tokens.revoke(a.id)).toBe(true);
    expect(tokens.revoke(a.id)).toBe(false);
    expect(server.check(a.token).ok).toBe(false);
    expect(server.check(b.token).ok).toBe(true);
    expect(tokens.revokeAll()).toBe(1);
    expect(server.check(b.token).ok).toBe(false);
    expect(server.list()).toEqual([]);
  });

  it("keeps expired records a week (a late client hears 'expired'), then drops them when it mints", () => {
    const { tokens } = store();
    tokens.mint(1, "ancient", Date.now() - 8 * 86_400_000);
    const late = tokens.mint(1, "late", Date.now() - 5000);
    tokens.mint(60, "new");
    expect(tokens.list().map((r) => r.label)).toEqual(["late", "new"]);
    expect(tokens.check(late.token)).toEqual({ ok: false, reason: "expired" });
  });
});
