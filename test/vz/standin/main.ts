/**
 * A stand-in for vfkit (which needs macOS): `vfkit [flags]` with vfkit's grammar, REST API and
 * exit codes, booting the described VM under qemu-system-x86_64 (TCG) with real virtiofsd.
 * Test-only, never shipped. Every invocation is appended to $VFKIT_STANDIN_LOG (one JSON line:
 * argv, pid, what became of it).
 *
 * What vfkit does that this mirrors: usage and configuration errors print cobra's
 * "Error: ..." plus usage on stderr, then the message again, and exit 1; the pid file is
 * written before devices are read; the REST server (GET/POST /vm/state, GET /vm/inspect)
 * answers while the VM lives; SIGTERM/SIGINT request a stop (the guest's power button),
 * force it after 5 s, and vfkit exits 0 once the VM is stopped; unix sockets it made are
 * removed at exit.
 */
import { appendFileSync, existsSync, rmSync, writeFileSync } from "node:fs";
import { QmpClient } from "../../../src/backends/qemu/qmp.ts";
import { parseVfkitArgs, VfkitUsageError, type VfkitConfig } from "./grammar.ts";
import { qemuPlan, validate, virtiofsdPath } from "./vm.ts";

const argv = process.argv.slice(2);
const record = (entry: Record<string, unknown>) => {
  const log = process.env.VFKIT_STANDIN_LOG;
  if (log) appendFileSync(log, `${JSON.stringify({ pid: process.pid, time: new Date().toISOString(), ...entry })}\n`);
};
record({ event: "invoked", argv });

const USAGE = `Usage:
  vfkit [flags]

Flags:
  -b, --bootloader stringSlice     bootloader configuration
  -c, --cpus uint                  number of virtual CPUs (default 1)
  -d, --device stringArray         devices
  -m, --memory uint                virtual machine RAM size in mibibytes (default 512)
      --pidfile string             path to the pid file
      --restful-uri string         URI address for RESTful services (default "none://")
`;

function refuse(message: string): never {
  record({ event: "refused", message });
  process.stderr.write(`Error: ${message}\n${USAGE}\n${message}\n`);
  process.exit(1);
}

let cfg: VfkitConfig;
try {
  const parsed = parseVfkitArgs(argv);
  if (parsed === "help") {
    process.stdout.write(`A hypervisor written in Go using Apple's Virtualization framework to run virtual machines.\n\n${USAGE}`);
    process.exit(0);
  }
  if (parsed === "version") {
    process.stdout.write("vfkit version: 0.6.1-standin\n");
    process.exit(0);
  }
  cfg = parsed;
  if (cfg.pidFile) writeFileSync(cfg.pidFile, String(process.pid), { mode: 0o600 });
  validate(cfg);
} catch (err) {
  if (err instanceof VfkitUsageError) refuse(err.message);
  throw err;
}

// Fault injection for tests: VZ attaching no share (the guest's VirtioFS mount then fails);
// a guest that ignores the power button (no ACPI/power-key handling: VZ's requestStop
// succeeds and nothing happens).
const fault = process.env.VFKIT_STANDIN_FAULT;
if (fault === "no-virtiofs") cfg.devices = cfg.devices.filter((d) => d.kind !== "virtio-fs");
const plan = qemuPlan(cfg, virtiofsdPath());
for (const w of plan.warnings) {
  record({ event: "warning", message: w });
  process.stderr.write(`level=warning msg="${w}"\n`);
}
const children: ReturnType<typeof Bun.spawn>[] = [];
// QEMU and virtiofsd die with the stand-in, as a VZ VM dies with its vfkit process (kill -9 included).
const withParent = (argv: string[]) => ["setpriv", "--pdeathsig", "SIGKILL", "--", ...argv];
let state = "VirtualMachineStateStarting";
const restPath = cfg.restfulURI.startsWith("unix://") ? cfg.restfulURI.slice("unix://".length) : undefined;

function cleanup(): void {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  for (const s of plan.sockets) rmSync(s, { force: true });
  if (restPath) rmSync(restPath, { force: true });
  rmSync(plan.work, { recursive: true, force: true });
}

async function qmp(command: string): Promise<void> {
  const client = await QmpClient.connect(plan.qmpSocket, 3000);
  try {
    await client.execute(command);
  } finally {
    client.close();
  }
}

/** VZ's requestStop (the guest's power button) and stop (pulled plug). */
async function changeState(want: string): Promise<void> {
  const running = state === "VirtualMachineStateRunning" || state === "VirtualMachineStatePaused";
  switch (want) {
    case "Stop":
      if (state !== "VirtualMachineStateRunning") throw new Error("Invalid virtual machine state transition: the virtual machine cannot be asked to stop now");
      return fault === "ignore-stop" ? undefined : qmp("system_powerdown");
    case "HardStop":
      if (!running) throw new Error("Invalid virtual machine state transition: the virtual machine is not running");
      state = "VirtualMachineStateStopping";
      return qmp("quit");
    case "Pause":
      if (state !== "VirtualMachineStateRunning") throw new Error("Invalid virtual machine state transition: the virtual machine is not running");
      await qmp("stop");
      state = "VirtualMachineStatePaused";
      return;
    case "Resume":
      if (state !== "VirtualMachineStatePaused") throw new Error("Invalid virtual machine state transition: the virtual machine is not paused");
      await qmp("cont");
      state = "VirtualMachineStateRunning";
      return;
    default:
      throw new Error(`invalid new VMState: ${want}`);
  }
}

function serveRest(path: string) {
  return Bun.serve({
    unix: path,
    async fetch(req) {
      const url = new URL(req.url);
      // POST /vm/state is logged with the state asked for, once its body is read.
      if (!(req.method === "POST" && url.pathname === "/vm/state")) record({ event: "rest", method: req.method, path: url.pathname });
      if (url.pathname === "/vm/state" && req.method === "GET") {
        const running = state === "VirtualMachineStateRunning";
        return Response.json({
          state,
          canStart: state === "VirtualMachineStateStopped",
          canPause: running,
          canResume: state === "VirtualMachineStatePaused",
          canStop: running,
          canHardStop: running || state === "VirtualMachineStatePaused",
        });
      }
      if (url.pathname === "/vm/state" && req.method === "POST") {
        let body: unknown;
        try {
          body = JSON.parse(await req.text());
        } catch (err) {
          return Response.json({ error: (err as Error).message }, { status: 400 });
        }
        const want = (body as { state?: unknown })?.state;
        record({ event: "rest", method: req.method, path: url.pathname, state: want });
        if (typeof want !== "string") return Response.json({ error: "json: cannot unmarshal into Go struct field VMState.state of type string" }, { status: 400 });
        try {
          await changeState(want);
        } catch (err) {
          return Response.json({ error: (err as Error).message }, { status: 500 });
        }
        return new Response(null, { status: 202 });
      }
      if (url.pathname === "/vm/inspect" && req.method === "GET") return Response.json(cfg);
      return new Response("404 page not found", { status: 404, headers: { "content-type": "text/plain" } });
    },
  });
}

async function shutdown(signal: string): Promise<void> {
  record({ event: "signal", signal });
  await changeState("Stop").catch(() => {});
  await Bun.sleep(5000);
  if (qemu.exitCode === null) await changeState("HardStop").catch(() => qemu.kill("SIGKILL"));
}

for (const d of plan.virtiofsd) {
  const fsd = Bun.spawn(withParent(d.argv), { stdout: "inherit", stderr: "inherit" });
  children.push(fsd);
  const deadline = Date.now() + 10_000;
  while (!existsSync(d.socket)) {
    if (fsd.exitCode !== null || Date.now() > deadline) {
      cleanup();
      refuse(`virtiofsd for ${d.argv.find((a) => a.startsWith("source="))} did not start`);
    }
    await Bun.sleep(20);
  }
}

const rest = restPath ? serveRest(restPath) : undefined;
const qemu = Bun.spawn(withParent(["qemu-system-x86_64", ...plan.argv]), { stdout: "inherit", stderr: "inherit" });
children.push(qemu);
record({ event: "qemu", argv: plan.argv });
for (const sig of ["SIGTERM", "SIGINT"] as const) process.on(sig, () => void shutdown(sig));

// Running once QEMU answers on QMP (the machine is set up); vfkit waits the same way for VZ's state.
for (const deadline = Date.now() + 30_000; state === "VirtualMachineStateStarting"; ) {
  if (qemu.exitCode !== null) break;
  try {
    await qmp("query-status");
    state = "VirtualMachineStateRunning";
    process.stderr.write('level=info msg="virtual machine is running"\n');
  } catch {
    if (Date.now() > deadline) break;
    await Bun.sleep(50);
  }
}
const code = await qemu.exited;
state = "VirtualMachineStateStopped";
rest?.stop(true);
cleanup();
record({ event: "exited", qemuExit: code });
if (code !== 0) {
  process.stderr.write(`virtualization error: the VM stopped with an error (QEMU exit ${code})\n`);
  process.exit(1);
}
process.stderr.write('level=info msg="VM is stopped"\n');
process.exit(0);
