import { chownSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { vmmUser } from "./vmm-user.ts";

// Who QEMU runs as is a root server's choice (not root: QEMU runs as the server's user).
const root = process.getuid?.() === 0;
if (!root) console.warn("skipped: QEMU's user is chosen by a root server (these tests chown dirs)");

describe.skipIf(!root)("QEMU's user", () => {
  const dir = mkdtempSync(join(tmpdir(), "shed-vmm-user-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const owned = (name: string, uid: number) => {
    const path = mkdtempSync(join(dir, `${name}-`));
    chownSync(path, uid, uid + 1);
    return path;
  };
  const share = (path: string, readonly = false) => ({ tag: "t", path, target: "/t", readonly });

  it("is the owner of the writable shares, so files the VM makes there are theirs", async () => {
    const ws = owned("ws", 1000);
    expect(await vmmUser({ shares: [share(ws), share(owned("ro", 1005), true)], devices: [] })).toEqual({
      uid: 1000,
      gid: 1001,
      groups: [],
      label: `uid 1000 (owner of ${ws})`,
    });
  });

  it("refuses writable shares of two users, saying which", async () => {
    const a = owned("a", 1000);
    const b = owned("b", 1002);
    await expect(vmmUser({ shares: [share(a), share(b)], devices: [] })).rejects.toThrow(/belong to different users: .*\(uid 1000\), .*\(uid 1002\).*qemu\.run_as/);
  });

  it("takes qemu.run_as over everything, by name or uid:gid, and never root", async () => {
    expect(await vmmUser({ runAs: "nobody", shares: [share(owned("x", 1000))], devices: [] })).toMatchObject({ uid: 65534, label: "nobody" });
    expect(await vmmUser({ runAs: "4321:8765", shares: [], devices: [] })).toMatchObject({ uid: 4321, gid: 8765 });
    await expect(vmmUser({ runAs: "root", shares: [], devices: [] })).rejects.toThrow(/must name an unprivileged user, not root/);
    await expect(vmmUser({ runAs: "0:0", shares: [], devices: [] })).rejects.toThrow(/not root/);
    await expect(vmmUser({ runAs: "no-such-user-here", shares: [], devices: [] })).rejects.toThrow(/there is no user "no-such-user-here"/);
  });
});
