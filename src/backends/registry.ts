import type { BackendSection } from "./config-section.ts";
import type { BackendDefinition } from "./definition.ts";
import { docker } from "./docker/index.ts";
import { firecracker } from "./firecracker/index.ts";
import { qemu } from "./qemu/index.ts";
import { vz } from "./vz/index.ts";

/**
 * Every backend shed knows, listed once. Adding one: its folder (a definition in its
 * index.ts: name, config section, detection rank, factory) and one line here. The server
 * config, detection, /api/info, doctor and the server's start-up all read this list.
 */
export const BUILT_IN = [docker, qemu, firecracker, vz] as const;

const registered: BackendDefinition[] = [];

/**
 * A backend that is not built in (a test's: test/backends/trivial/), registered before the
 * server reads its config. Its name must be new.
 */
export function registerBackend<S extends BackendSection>(def: BackendDefinition<S>): void {
  if (backendDefinition(def.name)) throw new Error(`a backend named ${def.name} is registered already`);
  registered.push(def as unknown as BackendDefinition);
}

export function backendDefinitions(): readonly BackendDefinition[] {
  return [...(BUILT_IN as readonly BackendDefinition[]), ...registered];
}

export function backendDefinition(name: string): BackendDefinition | undefined {
  return backendDefinitions().find((d) => d.name === name);
}

/** Every name, in registry order. */
export function backendNames(): string[] {
  return backendDefinitions().map((d) => d.name);
}

/** The backends this build has (a factory), in registry order. */
export function knownBackends(): string[] {
  return backendDefinitions()
    .filter((d) => d.create)
    .map((d) => d.name);
}

/** What `enabled_backends` defaults to: the built backends that run on this platform (vz only on macOS). */
export function defaultBackends(platform: NodeJS.Platform = process.platform): string[] {
  return knownBackends().filter((name) => {
    const runsOn = backendDefinition(name)?.runsOn;
    return !runsOn || runsOn.platforms.includes(platform);
  });
}
