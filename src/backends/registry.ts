import type { BackendName } from "../api/schemas/shed.ts";
import type { Backend } from "./backend.ts";
import { DockerBackend, type DockerBackendOptions } from "./docker/backend.ts";
import { QemuBackend, type QemuBackendOptions } from "./qemu/backend.ts";

/** What every backend factory may use; each takes the part it needs. */
export interface BackendDeps {
  docker: DockerBackendOptions;
  qemu?: QemuBackendOptions;
}

/**
 * The backends this build knows, as data: adding one is one line here plus its folder.
 * qemu, firecracker and vz are added by their own issues.
 */
const FACTORIES: Partial<Record<BackendName, (deps: BackendDeps) => Backend>> = {
  docker: (deps) => new DockerBackend(deps.docker),
  qemu: (deps) => new QemuBackend(deps.qemu!),
};

export function knownBackends(): BackendName[] {
  return Object.keys(FACTORIES) as BackendName[];
}

export function createBackends(names: BackendName[], deps: BackendDeps): Map<BackendName, Backend> {
  const out = new Map<BackendName, Backend>();
  for (const name of names) {
    const factory = FACTORIES[name];
    if (factory) out.set(name, factory(deps));
  }
  return out;
}
