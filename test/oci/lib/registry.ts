import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * A real registry (`docker-registry`, distribution 2.8) for tests: on a free loopback port,
 * storing in a temp dir, optionally with htpasswd basic auth. stop() kills only its own pid.
 */
export interface TestRegistry {
  host: string;
  port: number;
  dir: string;
  pid: number;
  stop(): Promise<void>;
  /** Starts it again on the same port and storage (after stop). */
  start(): Promise<void>;
}

export interface RegistryOptions {
  /** htpasswd basic auth. */
  auth?: { user: string; password: string };
  /** Bearer tokens from an issuer (see token-server.ts). */
  token?: { realm: string; service: string; issuer: string; certPath: string };
}

export async function startRegistry(dir: string, opts: RegistryOptions = {}): Promise<TestRegistry> {
  mkdirSync(join(dir, "data"), { recursive: true });
  const port = await freePort();
  const lines = [
    "version: 0.1",
    "log:",
    "  level: error",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${join(dir, "data")}`,
    "  delete:",
    "    enabled: true",
    "http:",
    `  addr: 127.0.0.1:${port}`,
    "  secret: shed-test-secret",
  ];
  if (opts.auth) {
    const hash = await Bun.password.hash(opts.auth.password, { algorithm: "bcrypt", cost: 4 });
    writeFileSync(join(dir, "htpasswd"), `${opts.auth.user}:${hash}\n`);
    lines.push("auth:", "  htpasswd:", "    realm: shed-test", `    path: ${join(dir, "htpasswd")}`);
  }
  if (opts.token) {
    lines.push(
      "auth:",
      "  token:",
      `    realm: ${opts.token.realm}`,
      `    service: ${opts.token.service}`,
      `    issuer: ${opts.token.issuer}`,
      `    rootcertbundle: ${opts.token.certPath}`,
    );
  }
  const cfg = join(dir, "config.yml");
  writeFileSync(cfg, `${lines.join("\n")}\n`);

  let proc: ReturnType<typeof Bun.spawn> | undefined;
  const reg: TestRegistry = {
    host: `127.0.0.1:${port}`,
    port,
    dir,
    get pid() {
      return proc?.pid ?? -1;
    },
    async start() {
      proc = Bun.spawn(["docker-registry", "serve", cfg], { stdout: "ignore", stderr: Bun.file(join(dir, "registry.log")) });
      const deadline = Date.now() + 30_000;
      for (;;) {
        try {
          const res = await fetch(`http://127.0.0.1:${port}/v2/`);
          await res.body?.cancel();
          if (res.status === 200 || res.status === 401) return;
        } catch {}
        if (proc.exitCode !== null || Date.now() > deadline) {
          throw new Error(`docker-registry did not start; see ${join(dir, "registry.log")}`);
        }
        await Bun.sleep(100);
      }
    },
    async stop() {
      if (!proc || proc.exitCode !== null) return;
      proc.kill("SIGKILL");
      await proc.exited;
    },
  };
  await reg.start();
  return reg;
}

export async function freePort(): Promise<number> {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}
