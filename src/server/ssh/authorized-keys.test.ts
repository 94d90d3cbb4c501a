import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { utils } from "ssh2";
import { describe, expect, it } from "vitest";
import { useTempDirs } from "../../../test/harness/temp-dir.ts";
import { AuthorizedKeys, parseAuthorizedKeys } from "./authorized-keys.ts";

const tempDir = useTempDirs();
const publicLine = () => {
  const pair = utils.generateKeyPairSync("ed25519");
  const parsed = utils.parseKey(pair.public);
  if (parsed instanceof Error) throw parsed;
  return { line: pair.public.trim(), blob: parsed.getPublicSSH() };
};

describe("authorized_keys", () => {
  it("reads keys with options and comments, and skips junk lines", () => {
    const a = publicLine();
    const b = publicLine();
    const text = `# comment\n\n${a.line} me@laptop\nrestrict,command="true" ${b.line}\nnot a key\nssh-ed25519 !!!notbase64\n`;
    const keys = parseAuthorizedKeys(text);
    expect(keys).toHaveLength(2);
    expect(keys[0]!.equals(a.blob)).toBe(true);
    expect(keys[1]!.equals(b.blob)).toBe(true);
  });

  it("matches only listed keys, and sees a file change without a restart", async () => {
    const dir = tempDir("ak");
    const file = join(dir, "authorized_keys");
    const a = publicLine();
    const b = publicLine();
    writeFileSync(file, `${a.line}\n`);
    const keys = new AuthorizedKeys([file, join(dir, "missing")]);
    expect(keys.has(a.blob)).toBe(true);
    expect(keys.has(b.blob)).toBe(false);
    await Bun.sleep(20);
    writeFileSync(file, `${a.line}\n${b.line}\n`);
    expect(keys.has(b.blob)).toBe(true);
    expect(keys.count()).toBe(2);
  });
});
