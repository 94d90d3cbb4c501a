import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useTempDirs } from "../../../test/harness/temp-dir.ts";
import { ShedError } from "../../api/errors.ts";
import { loadServerConfig, parseServerConfig } from "./load.ts";
import { ServerConfigSchema } from "./schema.ts";

const tempDir = useTempDirs();

describe("server config", () => {
  it("fills defaults: loopback bind, ports, detect backend, open auth", () => {
    const c = parseServerConfig("");
    expect(c.bind_address).toBe("127.0.0.1");
    expect(c.http_port).toBe(8080);
    expect(c.ssh_port).toBe(2222);
    expect(c.default_backend).toBe("detect");
    expect(c.auth.mode).toBe("open");
    expect(c.docker.default_cpus).toBe(2);
    expect(c.docker.pull_policy).toBe("missing");
  });

  it("reads the shape of the original's server.yaml", () => {
    const c = parseServerConfig(`
name: my-server
http_port: 8081
default_backend: docker
mounts:
  ssh: { source: ~/.ssh, target: /home/shed/.ssh, readonly: true }
env_file: ~/.shed/env
docker:
  default_image: shed/dev:bookworm
  image_aliases: { base: shed/base:1 }
  default_memory_mb: 2048
`);
    expect(c.name).toBe("my-server");
    expect(c.http_port).toBe(8081);
    expect(c.mounts.ssh).toEqual({ source: "~/.ssh", target: "/home/shed/.ssh", readonly: true });
    expect(c.docker.image_aliases.base).toBe("shed/base:1");
    expect(c.docker.default_memory_mb).toBe(2048);
  });

  it("accepts the deprecated `credentials` key as mounts", () => {
    const c = parseServerConfig("credentials:\n  gh: { source: /a, target: /b }\n");
    expect(c.mounts.gh).toEqual({ source: "/a", target: "/b", readonly: false });
  });

  it("reads seed 003's snapshots_dir per backend; the earlier snapshot_dir with a deprecation warning, both at once refused", () => {
    expect(parseServerConfig("qemu:\n  snapshots_dir: /srv/snaps\n").qemu.snapshots_dir).toBe("/srv/snaps");
    const warnings: string[] = [];
    const c = parseServerConfig("docker:\n  snapshot_dir: /srv/old\n", "/etc/s.yaml", warnings);
    expect(c.docker.snapshots_dir).toBe("/srv/old");
    expect(c.docker.snapshot_dir).toBeUndefined();
    expect(warnings).toEqual(["/etc/s.yaml: docker.snapshot_dir is deprecated: rename it to snapshots_dir"]);
    const both = catchErr(() => parseServerConfig("qemu:\n  snapshot_dir: /a\n  snapshots_dir: /b\n"));
    expect(both.code).toBe("INVALID_CONFIG");
    expect(both.message).toContain("keep only snapshots_dir");
  });

  it("names the file, the key path and what was expected", () => {
    const err = catchErr(() => parseServerConfig("http_port: eighty\ndocker:\n  default_cpus: -1\n", "/etc/x.yaml"));
    expect(err.code).toBe("INVALID_CONFIG");
    expect(err.message).toContain("/etc/x.yaml");
    expect(err.message).toContain("http_port");
    expect(err.message).toContain("docker.default_cpus");
  });

  it("refuses unknown backends and bad mount targets", () => {
    expect(catchErr(() => parseServerConfig("default_backend: lxc\n")).message).toContain("default_backend");
    expect(catchErr(() => parseServerConfig("mounts:\n  a: { source: /x, target: rel }\n")).message).toContain(
      "mounts.a.target",
    );
  });

  it("reports broken YAML with its line", () => {
    const err = catchErr(() => parseServerConfig("a: [1,\nb: 2\n", "s.yaml"));
    expect(err.message).toMatch(/^s\.yaml:\d+: not valid YAML/);
  });

  it("takes auth modes and token_ttl durations; tokens are never configured", () => {
    expect(parseServerConfig("auth: { mode: token }\n").auth).toEqual({ mode: "token", token_ttl: 86_400 });
    expect(parseServerConfig("auth: { mode: mtls, token_ttl: 2s }\n").auth.token_ttl).toBe(2);
    expect(parseServerConfig("auth: { token_ttl: 90 }\n").auth.token_ttl).toBe(90);
    expect(catchErr(() => parseServerConfig("auth: { token_ttl: soon }\n")).message).toContain("auth.token_ttl");
    expect(catchErr(() => parseServerConfig("auth: { mode: token, token: 0123456789abcdef0123 }\n")).message).toContain('unknown key "auth.token"');
    expect(catchErr(() => parseServerConfig("tls_cert_file: /x.pem\n")).message).toContain("tls_key_file");
  });

  it("refuses an unknown key with its line and the closest known key", () => {
    const err = catchErr(() => parseServerConfig("name: x\nmount_root: /srv\ndocker:\n  pid_limit: 9\n  labels: { a: b }\n", "/etc/s.yaml"));
    expect(err.message).toContain('/etc/s.yaml:2: unknown key "mount_root"; did you mean "mount_roots"?');
    expect(err.message).toContain('/etc/s.yaml:4: unknown key "docker.pid_limit"; did you mean "docker.pids_limit"?');
    expect(catchErr(() => parseServerConfig("zzzzzz: 1\n")).message).not.toContain("did you mean");
  });

  it("keeps every section strict, so a new one cannot forget it", () => {
    const walk = (schema: any, path: string): string[] => {
      const node = schema.wrapped ? schema.wrapped : schema;
      if (node.wrapped) return walk(node, path);
      if (node.type === "object" || node.type === "loose_object") return [path || "(top)"];
      if (node.type === "strict_object") return Object.entries(node.entries).flatMap(([k, s]) => walk(s, path ? `${path}.${k}` : k));
      if (node.type === "record") return walk(node.value, `${path}.*`);
      return [];
    };
    expect(walk(ServerConfigSchema, "")).toEqual([]);
  });

  it("bounds the numbers: pids_limit, memory, cpus", () => {
    expect(parseServerConfig("").docker.pids_limit).toBe(4096);
    expect(catchErr(() => parseServerConfig("docker: { pids_limit: 1 }\n")).message).toContain("at least 16");
    expect(catchErr(() => parseServerConfig("docker: { default_memory_mb: 1e12 }\n")).message).toContain("1048576");
  });

  it("loads an explicit file, and refuses a missing one", () => {
    const dir = tempDir("cfg");
    const path = join(dir, "server.yaml");
    writeFileSync(path, "name: x\n");
    expect(loadServerConfig(path)).toMatchObject({ path, config: { name: "x" } });
    expect(catchErr(() => loadServerConfig(join(dir, "nope.yaml"))).message).toContain("no such file");
  });
});

function catchErr(fn: () => unknown): ShedError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ShedError) return err;
    throw err;
  }
  throw new Error("expected an error");
}
