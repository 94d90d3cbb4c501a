import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useTempDirs } from "../../../test/harness/temp-dir.ts";
import { parseServerConfig } from "../config/load.ts";
import { parseAddDir, planHostMounts } from "./host-mounts.ts";

const tempDir = useTempDirs();
const docker = { localDir: true, fileMounts: true, snapshots: false, suspend: false, vsock: false, shutdownHook: true, vm: false };
const qemu9p = { ...docker, fileMounts: false, vm: true };

describe("--add-dir", () => {
  it("takes SRC[:DST][:ro]", () => {
    const src = tempDir("add");
    expect(parseAddDir(src)).toEqual({ source: src, target: `/workspace/${src.split("/").pop()}`, readonly: false });
    expect(parseAddDir(`${src}:/opt/x:ro`)).toEqual({ source: src, target: "/opt/x", readonly: true });
    expect(() => parseAddDir(`${src}:rel`)).toThrow(/absolute path in the shed/);
    expect(() => parseAddDir("/no/such/dir")).toThrow(/not a directory on the server's host/);
    expect(() => parseAddDir(`${src}:/a:/b`)).toThrow(/SRC\[:DST\]\[:ro\]/);
  });
});

describe("host mounts of a new shed", () => {
  const configWith = (dir: string, file: string) =>
    parseServerConfig(
      `mounts:\n  gh: { source: ${dir}, target: /home/shed/.config/gh, readonly: true }\n` +
        `  gitconfig: { source: ${file}, target: /home/shed/.gitconfig }\n  gone: { source: /no/such, target: /x }\n`,
    );

  it("mounts what the backend can, copies the rest, warns about missing sources", () => {
    const dir = tempDir("gh");
    const file = join(dir, "gitconfig");
    writeFileSync(file, "[user]\n");
    const config = configWith(dir, file);
    const onDocker = planHostMounts(config, { name: "a" }, "docker", docker);
    expect(onDocker.mounts.map((m) => m.target)).toEqual(["/home/shed/.config/gh", "/home/shed/.gitconfig"]);
    expect(onDocker.copies).toEqual([]);
    expect(onDocker.warnings).toEqual(["mounts.gone: /no/such does not exist on the server; not mounted"]);
    const onQemu = planHostMounts(config, { name: "a" }, "qemu", qemu9p);
    expect(onQemu.mounts).toEqual([{ source: dir, target: "/home/shed/.config/gh", readonly: true }]);
    expect(onQemu.copies).toEqual([{ source: file, target: "/home/shed/.gitconfig", readonly: false }]);
  });

  it("refuses --local-dir with --repo, and directories where the backend cannot mount", () => {
    const dir = tempDir("ws");
    const config = parseServerConfig("");
    expect(() => planHostMounts(config, { name: "a", localDir: dir, repo: "a/b" }, "docker", docker)).toThrow(/cannot be used together/);
    expect(() => planHostMounts(config, { name: "a", localDir: dir }, "vz", { ...docker, localDir: false })).toThrow(/cannot mount host directories/);
    expect(planHostMounts(config, { name: "a", localDir: dir }, "docker", docker).mounts).toEqual([{ source: dir, target: "/workspace", readonly: false }]);
  });
});
