#!/usr/bin/env bun
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadContract } from "../contract.ts";
import { ApiFault, FirecrackerApi } from "./api.ts";
import { jailPath } from "./jail-path.ts";
import { HybridVsock } from "./vsock.ts";
import { AGENT_PORT_NAME, Qmp, qemuArgs } from "./vm.ts";

/**
 * A stand-in for the `firecracker` process (Firecracker cannot run on this machine), for
 * tests only: Firecracker's command line, its API on the --api-sock socket checked against
 * its contract (api.ts), and on InstanceStart a real VM booted by QEMU under TCG (vm.ts)
 * with the hybrid vsock bridged to it (vsock.ts). The guest console is this process's
 * stdout, as Firecracker's is. It exits when the VM does, as Firecracker does.
 *
 * Environment (set by the test's wrapper script): SHED_FC_STANDIN_LOG_DIR, where each
 * instance's request log goes (<dir>/<id>.jsonl); SHED_FC_STANDIN_QEMU, the QEMU binary;
 * SHED_FC_STANDIN_GUEST_PORT, the guest vsock port its serial port stands for (1024).
 */

const FLAGS_WITH_VALUE = new Set([
  "--api-sock",
  "--id",
  "--config-file",
  "--log-path",
  "--level",
  "--seccomp-filter",
  "--http-api-max-payload-size",
  "--mmds-size-limit",
  "--metadata",
  // What the jailer passes before the arguments after its `--`.
  "--start-time-us",
  "--start-time-cpu-us",
  "--parent-cpu-time-us",
]);
const FLAGS_BARE = new Set(["--no-api", "--no-seccomp", "--boot-timer", "--show-level", "--show-log-origin"]);

function fail(message: string, code = 1): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

function parseArgs(argv: string[]): Map<string, string | true> {
  const out = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--version") {
      process.stdout.write(`Firecracker v${loadContract().version} (stand-in)\n`);
      process.exit(0);
    }
    if (out.has(a)) fail(`Arguments parsing error: The argument '${a.slice(2)}' was provided more than once.`);
    if (FLAGS_WITH_VALUE.has(a)) {
      const v = argv[++i];
      if (v === undefined || v.startsWith("--")) fail(`Arguments parsing error: Missing value for argument: ${a.slice(2)}`);
      if (a.endsWith("-us") && !/^\d+$/.test(v)) fail(`Arguments parsing error: ${a.slice(2)} must be a number of microseconds`);
      out.set(a, v);
    } else if (FLAGS_BARE.has(a)) out.set(a, true);
    else fail(`Arguments parsing error: Found argument '${a}' which wasn't expected, or isn't valid in this context.`);
  }
  return out;
}

const args = parseArgs(process.argv.slice(2));
const contract = loadContract();
const id = (args.get("--id") as string | undefined) ?? "anonymous-instance";
if (!/^[a-zA-Z0-9-]{1,64}$/.test(id)) fail(`Invalid instance ID: ${id}`);
// Under the jailer (jailer.ts) every path is the jail's: resolved inside it, as chroot(2) would.
const chroot = process.env.SHED_FC_STANDIN_CHROOT;
const resolve = (path: string) => (chroot ? jailPath(chroot, path) : path);
const noApi = args.has("--no-api");
const apiSock = noApi ? undefined : resolve((args.get("--api-sock") as string | undefined) ?? "/run/firecracker.socket");
const configFile = args.has("--config-file") ? resolve(args.get("--config-file") as string) : undefined;
if (noApi && !configFile) fail("Arguments parsing error: --no-api requires --config-file");
if (apiSock && existsSync(apiSock)) fail(`Failed to open the API socket at: ${apiSock}. Check that it is not already used.`);

const logDir = process.env.SHED_FC_STANDIN_LOG_DIR;
if (logDir) mkdirSync(logDir, { recursive: true });
const guestPort = Number(process.env.SHED_FC_STANDIN_GUEST_PORT ?? 1024);
const qemuBinary = process.env.SHED_FC_STANDIN_QEMU ?? "qemu-system-x86_64";
// Its own sockets beside the API socket (gone with the instance even after a SIGKILL), unless too long a path.
const dir = apiSock && `${apiSock}.standin/vsock-serial.sock`.length < 100 ? `${apiSock}.standin` : mkdtempSync(join(tmpdir(), "fcsi-"));
mkdirSync(dir, { recursive: true, mode: 0o700 });
const say = (line: string) => process.stderr.write(`[firecracker stand-in ${id}] ${line}\n`);

let vsock: HybridVsock | undefined;
let qemu: ReturnType<typeof Bun.spawn> | undefined;
let qmp: Qmp | undefined;
let server: ReturnType<typeof Bun.serve> | undefined;

function shutdown(code: number): never {
  vsock?.close();
  qmp?.close();
  if (qemu && qemu.exitCode === null) qemu.kill("SIGKILL");
  server?.stop(true);
  if (apiSock) rmSync(apiSock, { force: true });
  rmSync(dir, { recursive: true, force: true });
  process.exit(code);
}

const api = new FirecrackerApi(
  contract,
  id,
  {
    async vsockConfigured(v) {
      vsock = new HybridVsock(v.uds_path, guestPort, say);
      await vsock.listen();
    },
    async start(cfg) {
      const chardev = join(dir, "vsock-serial.sock");
      const argv = qemuArgs({ ...cfg, vsockPort: cfg.vsock ? { name: AGENT_PORT_NAME, socket: chardev } : undefined }, dir);
      // QEMU dies with this process (a SIGKILL of the "Firecracker process" ends its VM).
      const setpriv = Bun.which("setpriv");
      const cmd = [...(setpriv ? [setpriv, "--pdeathsig", "KILL", "--"] : []), qemuBinary, ...argv];
      say(`booting: ${cmd.join(" ")}`);
      const proc = Bun.spawn(cmd, { stdin: "ignore", stdout: "inherit", stderr: "pipe" });
      qemu = proc;
      let said = "";
      void (async () => {
        for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) {
          said = (said + new TextDecoder().decode(chunk)).slice(-2000);
          process.stderr.write(chunk);
        }
      })();
      let running = false;
      void proc.exited.then((code) => {
        say(`VM exited (${code})`);
        // A microVM that ran ends the process, as Firecracker's does; a failed start is the request's error.
        if (running) shutdown(0);
      });
      try {
        qmp = await Promise.race([
          Qmp.connect(join(dir, "qmp.sock"), 30_000),
          proc.exited.then(async (code) => {
            await Bun.sleep(50);
            throw new Error(`the VM exited (${code}) while starting: ${said.trim().split("\n").pop() ?? ""}`);
          }),
        ]);
      } catch (err) {
        proc.kill("SIGKILL");
        qemu = undefined;
        throw err;
      }
      running = true;
      qmp.onEvent.push((event, data) => {
        if (event === "VSERPORT_CHANGE") vsock?.guestPortChanged(data.open === true);
      });
      vsock?.attach(chardev);
    },
    async ctrlAltDel() {
      await qmp?.execute("send-key", { keys: [{ type: "qcode", data: "ctrl" }, { type: "qcode", data: "alt" }, { type: "qcode", data: "delete" }] });
    },
  },
  logDir ? join(logDir, `${id}.jsonl`) : undefined,
  (name) => Bun.spawnSync(["ip", "link", "show", "dev", name], { stdout: "ignore", stderr: "ignore" }).exitCode === 0,
  resolve,
);

process.on("SIGTERM", () => shutdown(0));
process.on("SIGINT", () => shutdown(0));

if (apiSock) {
  server = Bun.serve({
    unix: apiSock,
    async fetch(req) {
      const url = new URL(req.url);
      const { status, body } = await api.handle(req.method, url.pathname, await req.text());
      return body === undefined ? new Response(null, { status }) : Response.json(body, { status });
    },
  });
}

if (configFile) {
  try {
    await api.configure(JSON.parse(readFileSync(configFile, "utf8")));
  } catch (err) {
    say(err instanceof ApiFault ? `configuration refused: ${err.message}` : `cannot read ${configFile}: ${(err as Error).message}`);
    shutdown(1);
  }
}
