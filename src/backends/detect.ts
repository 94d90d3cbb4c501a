import type { BackendName } from "../api/schemas/shed.ts";
import type { Backend, ProbeResult } from "./backend.ts";
import { backendDefinition, backendDefinitions } from "./registry.ts";

/**
 * `default_backend: detect`. Order of preference (each definition's `detect` rank), VMs first
 * where they run at full speed: Linux: firecracker (usable KVM and the binary) -> qemu with
 * usable KVM -> docker -> qemu under TCG; macOS: vz -> docker. A backend whose VMs would be
 * emulated (probe `emulated`) comes after every backend that is not, so an emulated VM is
 * never the default while Docker runs.
 */
export function detectionOrder(platform: NodeJS.Platform = process.platform): BackendName[] {
  return backendDefinitions()
    .filter((d) => d.detect?.[platform] !== undefined)
    .sort((a, b) => a.detect![platform]! - b.detect![platform]!)
    .map((d) => d.name);
}

export interface Detection {
  /** Undefined only when no backend of the order is enabled. */
  chosen: BackendName | undefined;
  /** Why, in one sentence (logged at start, shown by /api/info and the quickstart). */
  reason: string;
}

/** The choice from probe results (pure: unit-tested for every combination). */
export function pickBackend(order: BackendName[], probes: Map<BackendName, ProbeResult>): Detection {
  const present = order.filter((n) => probes.has(n));
  const full = present.find((n) => probes.get(n)!.ok && !probes.get(n)!.emulated);
  const emulated = present.find((n) => probes.get(n)!.ok);
  const chosen = full ?? emulated ?? present[0];
  if (!chosen) return { chosen, reason: `none of the backends ${order.join(", ")} is enabled on this server` };
  const passed = present.slice(0, present.indexOf(chosen)).map((n) => `${n}: ${probes.get(n)!.reason ?? "not available"}`);
  const skipped = passed.length ? ` (${passed.join("; ")})` : "";
  if (full) return { chosen, reason: `detected ${chosen}: the first available in the order ${order.join(" -> ")}${skipped}` };
  if (emulated) {
    const why = probes.get(chosen)!.reason;
    return { chosen, reason: `detected ${chosen}, the only available backend, though its VMs run emulated${why ? ` (${why})` : ""}${skipped}` };
  }
  return { chosen, reason: `no backend is available (${present.map((n) => `${n}: ${probes.get(n)!.reason ?? "not available"}`).join("; ")}); ${chosen} is the default until one is` };
}

/** Probes every enabled backend of this platform's order and picks one. */
export async function detectBackend(backends: Map<BackendName, Backend>, platform: NodeJS.Platform = process.platform): Promise<Detection> {
  return pickBackend(detectionOrder(platform), await probeAll(backends));
}

export async function probeAll(backends: Map<BackendName, Backend>): Promise<Map<BackendName, ProbeResult>> {
  const entries = await Promise.all([...backends].map(async ([name, b]) => [name, await b.probe()] as const));
  return new Map(entries);
}

/**
 * Why an available backend is not the default, for /api/info: the config named another, or
 * detection preferred another (and why an emulated one comes last).
 */
export function whyNotChosen(name: BackendName, chosen: BackendName, probe: ProbeResult, configured: boolean): string {
  const use = `use it per shed with \`shed create --backend ${name}\`, or set default_backend: ${name} in server.yaml`;
  if (configured) return `available, not the default: default_backend is ${chosen} in server.yaml; ${use}`;
  if (probe.emulated) return `${probe.reason ?? "its VMs run emulated"}; ${chosen} is preferred while it is available; ${use}`;
  return `available; ${chosen} comes first in detection order; ${use}`;
}

/** Why a backend this server does not have is missing: not built in yet, wrong platform, or left out by the config. */
export function absentReason(name: BackendName, built: boolean, platform: NodeJS.Platform = process.platform): string {
  const runsOn = backendDefinition(name)?.runsOn;
  if (runsOn && !runsOn.platforms.includes(platform)) return `${name} runs on ${runsOn.says} only`;
  if (!built) return `this shed-server build has no ${name} backend yet`;
  return `not enabled: enabled_backends in server.yaml leaves it out (add ${name} to use it)`;
}
