import { writeFileSync } from "node:fs";
import { mkdirSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useTempDirs } from "../../../test/harness/temp-dir.ts";
import { parseServerConfig } from "../config/load.ts";
import { parseAddDir, planHostMounts } from "./host-mounts.ts";

const tempDir = useTempDirs();
/** Test dirs live under the temp dir: that is the mount root here. */
const roots = `mount_roots: [${tmpdir()}]\nstate_dir: /var/lib/shed-unit-test\n`;
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
      `${roots}mounts:\n  gh: { source: ${dir}, target: /home/shed/.config/gh, readonly: true }\n` +
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
    const config = parseServerConfig(roots);
    expect(() => planHostMounts(config, { name: "a", localDir: dir, repo: "a/b" }, "docker", docker)).toThrow(/cannot be used together/);
    expect(() => planHostMounts(config, { name: "a", localDir: dir }, "vz", { ...docker, localDir: false })).toThrow(/cannot mount host directories/);
    expect(planHostMounts(config, { name: "a", localDir: dir }, "docker", docker).mounts).toEqual([{ source: dir, target: "/workspace", readonly: false }]);
  });
});

describe("mount roots", () => {
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return `${(err as { code?: string }).code}: ${(err as Error).message}`;
    }
    return "ok";
  };

  it("takes a directory under a root, refuses one outside, naming the roots", () => {
    const root = tempDir("root");
    const inside = join(root, "project");
    mkdirSync(inside);
    const config = parseServerConfig(`mount_roots: [${root}]\nstate_dir: ${join(root, "state")}\n`);
    expect(planHostMounts(config, { name: "a", localDir: inside }, "docker", docker).mounts[0]?.source).toBe(inside);
    const outside = tempDir("outside");
    const refused = code(() => planHostMounts(config, { name: "a", localDir: outside }, "docker", docker));
    expect(refused).toMatch(/^FORBIDDEN: .*outside the mount roots/);
    expect(refused).toContain(`(${root})`);
    expect(code(() => planHostMounts(config, { name: "a", addDirs: [`${outside}:/x`] }, "docker", docker))).toMatch(/^FORBIDDEN: --add-dir/);
  });

  it("refuses /, /etc, the state dir and a symlink out of a root, whatever the roots say", () => {
    const root = tempDir("root");
    const state = join(root, "state");
    mkdirSync(state);
    symlinkSync("/etc", join(root, "etc-link"));
    const config = parseServerConfig(`mount_roots: [/, ${root}]\nstate_dir: ${state}\n`);
    const plan = (localDir: string) => code(() => planHostMounts(config, { name: "a", localDir }, "docker", docker));
    expect(plan("/")).toMatch(/^FORBIDDEN: .*root directory/);
    expect(plan("/etc")).toMatch(/^FORBIDDEN: .*\/etc cannot be mounted/);
    expect(plan("/etc/ssh")).toMatch(/^FORBIDDEN/);
    expect(plan(state)).toMatch(/^FORBIDDEN: .*state dir/);
    expect(plan(join(root, "etc-link"))).toMatch(/^FORBIDDEN: .*resolves to \/etc/);
    const narrow = parseServerConfig(`mount_roots: [${root}]\nstate_dir: ${join(tempDir("s"), "state")}\n`);
    symlinkSync(tempDir("elsewhere"), join(root, "out-link"));
    expect(code(() => planHostMounts(narrow, { name: "a", localDir: join(root, "out-link") }, "docker", docker))).toMatch(/^FORBIDDEN: .*outside the mount roots/);
  });

  it("defaults to the home of the user running the server", () => {
    const config = parseServerConfig("");
    expect(code(() => planHostMounts(config, { name: "a", localDir: tempDir("x") }, "docker", docker))).toMatch(/^FORBIDDEN: .*\(\/root\)|\(\/home\//);
  });
});
