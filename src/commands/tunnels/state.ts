import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { clientConfigDir } from "../../cli/client-config.ts";
import { writeFileAtomic } from "../../fs/atomic-file.ts";
import { processAlive } from "../../proc/alive.ts";

/** A running `shed tunnels start`: one file per shed under the client config dir. */
export interface TunnelState {
  pid: number;
  server: string;
  shed: string;
  ports: { local: number; remote: number }[];
  started: string;
  /** --auto: ports are added as they start listening in the shed. */
  auto?: boolean;
}

const dir = () => join(clientConfigDir(), "tunnels");
const file = (server: string, shed: string) => join(dir(), `${server}--${shed}.json`);

export function saveTunnel(state: TunnelState): void {
  mkdirSync(dir(), { recursive: true, mode: 0o700 });
  writeFileAtomic(file(state.server, state.shed), JSON.stringify(state), 0o600);
}

export function removeTunnel(server: string, shed: string, pid = process.pid): void {
  const path = file(server, shed);
  const current = readTunnel(path);
  if (current && current.pid === pid) rmSync(path, { force: true });
}

export function findTunnel(server: string, shed: string): TunnelState | undefined {
  return readTunnel(file(server, shed));
}

/** Every tunnel whose process still runs; files of dead ones are swept. */
export function listTunnels(): TunnelState[] {
  if (!existsSync(dir())) return [];
  return readdirSync(dir())
    .filter((f) => f.endsWith(".json"))
    .map((f) => readTunnel(join(dir(), f)))
    .filter((t): t is TunnelState => t !== undefined);
}

function readTunnel(path: string): TunnelState | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const state = JSON.parse(readFileSync(path, "utf8")) as TunnelState;
    if (processAlive(state.pid, { ours: true })) return state;
  } catch {}
  rmSync(path, { force: true });
  return undefined;
}

/** Stops a tunnel process and waits (up to 5 s) until it is gone. */
export async function stopTunnel(t: TunnelState): Promise<void> {
  try {
    process.kill(t.pid, "SIGTERM");
  } catch {}
  for (let i = 0; i < 50 && processAlive(t.pid, { ours: true }); i++) await Bun.sleep(100);
  rmSync(file(t.server, t.shed), { force: true });
}

