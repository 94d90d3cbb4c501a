import type { BackendName } from "../api/schemas/shed.ts";
import type { Backend } from "./backend.ts";

/** Preference when the config says `detect`: VMs first where they can run, Docker last. */
export function detectionOrder(platform: NodeJS.Platform = process.platform): BackendName[] {
  return platform === "darwin" ? ["vz", "docker"] : ["firecracker", "qemu", "docker"];
}

/** The first backend in detection order whose probe succeeds; else the first one we have. */
export async function detectBackend(backends: Map<BackendName, Backend>): Promise<BackendName | undefined> {
  const ordered = detectionOrder().filter((n) => backends.has(n));
  for (const name of ordered) {
    if ((await backends.get(name)!.probe()).ok) return name;
  }
  return ordered[0];
}
