import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { useTempDirs } from "../../test/harness/temp-dir.ts";
import { LOCAL_SERVER, loadClientConfig, resolveServer, saveClientConfig } from "./client-config.ts";

const tempDir = useTempDirs();

describe("client config", () => {
  let dir: string;
  const saved = process.env.SHED_CONFIG_DIR;
  beforeEach(() => {
    dir = tempDir("cc");
    process.env.SHED_CONFIG_DIR = dir;
  });
  afterEach(() => {
    process.env.SHED_CONFIG_DIR = saved;
  });

  it("uses the local server when none is configured", () => {
    expect(resolveServer(loadClientConfig())).toEqual({ ...LOCAL_SERVER, implicit: true });
    expect(resolveServer(loadClientConfig(), "local")).toEqual(LOCAL_SERVER);
  });

  it("reads the original's shape and picks -s, then default_server, then the only one", () => {
    writeFileSync(
      join(dir, "config.yaml"),
      "default_server: b\nservers:\n  a: { host: a.local }\n  b: { host: b.local, http_port: 9090, ssh_port: 2200 }\n",
    );
    const config = loadClientConfig();
    expect(resolveServer(config)).toMatchObject({ name: "b", host: "b.local", httpPort: 9090, sshPort: 2200 });
    expect(resolveServer(config, "a")).toMatchObject({ name: "a", httpPort: 8080, sshPort: 2222 });
    expect(() => resolveServer(config, "zzz")).toThrow(/no server named "zzz".*known: a, b/);
    delete config.default_server;
    delete config.servers.b;
    expect(resolveServer(config).name).toBe("a");
  });

  it("takes HOST:PORT for a server not in the config, and SHED_TOKEN over the config's token", () => {
    expect(resolveServer(loadClientConfig(), "10.1.2.3:9090")).toMatchObject({ host: "10.1.2.3", httpPort: 9090 });
    expect(resolveServer(loadClientConfig(), "http://[::1]:7000")).toMatchObject({ host: "::1", httpPort: 7000 });
    process.env.SHED_TOKEN = "from-env";
    try {
      expect(resolveServer(loadClientConfig(), "h.local:1").token).toBe("from-env");
    } finally {
      delete process.env.SHED_TOKEN;
    }
  });

  it("saves atomically with private permissions", () => {
    saveClientConfig({ default_server: "x", servers: { x: { host: "h", http_port: 1, ssh_port: 2, token: "t0123456789012345" } } });
    const path = join(dir, "config.yaml");
    expect(readFileSync(path, "utf8")).toContain("token: t0123456789012345");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(loadClientConfig().servers.x?.host).toBe("h");
  });

  it("says which key is wrong", () => {
    writeFileSync(join(dir, "config.yaml"), "servers:\n  a: { http_port: 80 }\n");
    expect(() => loadClientConfig()).toThrow(/servers\.a\.host/);
  });
});
