import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { stringify } from "yaml";
import type { TestNetns } from "./netns.ts";
import { namePrefix, testLabels } from "./run-id.ts";

export const DIST = resolve(import.meta.dirname, "../../dist");

/** fetch's TLS options for a test server's self-made certificate (the CLI pins it; raw fetches in tests need not). */
export const TEST_TLS = { rejectUnauthorized: false } as const;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  stdin?: string | Uint8Array;
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Run the CLI inside this network namespace (where its server listens). */
  netns?: TestNetns;
}

export interface TestServer {
  port: number;
  sshPort: number;
  /** The HTTPS port in auth.mode token and mtls (0 otherwise). */
  httpsPort: number;
  url: string;
  dir: string;
  stateDir: string;
  configDir: string;
  configPath: string;
  logPath: string;
  pid: number;
  /** Runs dist/shed against this server. */
  shed(args: string[], opts?: CliOptions): Promise<CliResult>;
  /** Runs dist/shed and parses its single JSON line (adds --json). */
  shedJson<T = any>(args: string[], opts?: CliOptions): Promise<T>;
  restart(): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
  /** `argv` run where the server's loopback is (inside its network namespace, if any). */
  wrap(argv: string[]): string[];
}

export interface StartOptions {
  /** Merged over the defaults written to server.yaml. */
  config?: Record<string, unknown>;
  env?: Record<string, string>;
  /** Run the server (and the CLI of `shed()`) inside this namespace (test/harness/netns.ts). */
  netns?: TestNetns;
  /** How to run shed-server (default dist/shed-server); a test backend's server runs from its own entry point. */
  command?: string[];
}

/**
 * Runs the compiled shed-server on a random loopback port with a temp state dir, and a
 * client config that points dist/shed at it. Everything lives in one temp dir.
 */
export async function startServer(opts: StartOptions = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), "shed-test-"));
  const stateDir = join(dir, "state");
  const configDir = join(dir, "client");
  const configPath = join(dir, "server.yaml");
  const logPath = join(dir, "server.log");
  const base = {
    name: "test-server",
    bind_address: "127.0.0.1",
    http_port: 0,
    ssh_port: 0,
    state_dir: stateDir,
    log_level: "debug",
    default_backend: "docker",
    docker: { name_prefix: namePrefix, labels: testLabels, stop_timeout: 3 },
    // Tests keep the host directories they mount in temp dirs (the state dir is refused anyway).
    mount_roots: [tmpdir()],
    // A VM network makes a bridge, taps, nftables rules and a dnsmasq: only ever inside a
    // namespace the test made, never in this machine's own.
    qemu: { network: opts.netns ? "isolated" : "none" },
    firecracker: { network: opts.netns ? "isolated" : "none" },
    vz: { network: opts.netns ? "nat" : "none" },
  };
  const config = deepMerge(base, opts.config ?? {});
  for (const backend of ["qemu", "firecracker", "vz"] as const) {
    if ((config[backend] as { network?: string }).network !== "none" && !opts.netns) {
      throw new Error(`startServer: a ${backend} network other than \`none\` needs \`netns\` (test/harness/netns.ts): the host's own namespace is off limits`);
    }
  }
  writeFileSync(configPath, stringify(config));

  let proc: ReturnType<typeof Bun.spawn> | undefined;
  let ports = { http: 0, ssh: 0, https: 0 };
  const wrap = (argv: string[]) => opts.netns?.wrap(argv) ?? argv;

  const launch = async () => {
    const args = [...(opts.command ?? [join(DIST, "shed-server")]), "serve", "--config", configPath];
    if (ports.http) args.push("--port", String(ports.http), "--ssh-port", String(ports.ssh));
    if (ports.https) args.push("--https-port", String(ports.https));
    const log = Bun.file(logPath);
    const prior = (await log.exists()) ? await log.text() : "";
    proc = Bun.spawn(wrap(args), {
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, ...opts.env },
    });
    void pipeToFile(proc.stderr as ReadableStream<Uint8Array>, logPath, prior);
    const line = await firstLine(proc.stdout as ReadableStream<Uint8Array>, 60_000);
    if (!line) {
      await proc.exited;
      throw new Error(`shed-server did not start (exit ${proc.exitCode}); log:\n${await Bun.file(logPath).text()}`);
    }
    const info = JSON.parse(line) as { httpPort: number; sshPort: number; httpsPort?: number };
    ports = { http: info.httpPort, ssh: info.sshPort, https: info.httpsPort ?? 0 };
  };
  await launch();

  const clientEnv = () => ({ SHED_CONFIG_DIR: configDir });
  writeClientConfig(configDir, ports.http, ports.ssh);

  const server: TestServer = {
    get port() {
      return ports.http;
    },
    get sshPort() {
      return ports.ssh;
    },
    get httpsPort() {
      return ports.https;
    },
    /** The API's base URL: HTTPS in auth.mode token and mtls (fetch it with `tls: TEST_TLS`). */
    get url() {
      return ports.https ? `https://127.0.0.1:${ports.https}` : `http://127.0.0.1:${ports.http}`;
    },
    get pid() {
      return proc!.pid;
    },
    dir,
    stateDir,
    configDir,
    configPath,
    logPath,
    wrap,
    shed: (args, o = {}) => runShed(args, { netns: opts.netns, ...o, env: { ...clientEnv(), ...o.env } }),
    async shedJson(args, o = {}) {
      const r = await runShed(["--json", ...args], { netns: opts.netns, ...o, env: { ...clientEnv(), ...o.env } });
      // The result is stdout's one document; an error is `{"error":...}` on stderr.
      const last = (r.stdout.trim() || r.stderr.trim()).split("\n").at(-1) ?? "";
      try {
        return JSON.parse(last);
      } catch {
        throw new Error(`shed ${args.join(" ")}: no JSON (exit ${r.code}): ${r.stdout}${r.stderr}`);
      }
    },
    async restart() {
      await server.kill("SIGTERM");
      await launch();
    },
    async kill(signal = "SIGKILL") {
      if (!proc || proc.exitCode !== null) return;
      proc.kill(signal);
      await proc.exited;
    },
    async stop() {
      await server.kill("SIGTERM");
      if (!process.env.SHED_TEST_KEEP) rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

export function writeClientConfig(configDir: string, httpPort: number, sshPort: number): void {
  Bun.spawnSync(["mkdir", "-p", configDir]);
  writeFileSync(
    join(configDir, "config.yaml"),
    stringify({ default_server: "test", servers: { test: { host: "127.0.0.1", http_port: httpPort, ssh_port: sshPort || 2222 } } }),
  );
}

/** Runs dist/shed with the given args; never throws for a non-zero exit. */
export async function runShed(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const argv = [join(DIST, "shed"), ...args];
  const proc = Bun.spawn(opts.netns?.wrap(argv) ?? argv, {
    stdin: opts.stdin === undefined ? "ignore" : new Blob([opts.stdin]),
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ...opts.env },
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), opts.timeoutMs ?? 240_000);
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  await proc.exited;
  clearTimeout(timer);
  return { code: proc.exitCode ?? -1, stdout, stderr };
}

async function firstLine(stream: ReadableStream<Uint8Array>, timeoutMs: number): Promise<string | undefined> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  const timeout = Bun.sleep(timeoutMs).then(() => undefined);
  for (;;) {
    const next = await Promise.race([reader.read(), timeout]);
    if (!next || next.done) return undefined;
    buf += decoder.decode(next.value, { stream: true });
    const nl = buf.indexOf("\n");
    if (nl >= 0) {
      // Keep draining stdout so the server never blocks on a full pipe.
      void (async () => {
        while (!(await reader.read()).done) {}
      })().catch(() => {});
      return buf.slice(0, nl);
    }
  }
}

async function pipeToFile(stream: ReadableStream<Uint8Array>, path: string, prior: string): Promise<void> {
  const writer = Bun.file(path).writer();
  writer.write(prior);
  for await (const chunk of stream) {
    writer.write(chunk);
    writer.flush();
  }
  await writer.end();
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] =
      v && typeof v === "object" && !Array.isArray(v) && prev && typeof prev === "object" && !Array.isArray(prev)
        ? deepMerge(prev as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}
