import { ShedError } from "../../api/errors.ts";
import type { BackendName, Progress, Shed } from "../../api/schemas/shed.ts";
import type { Backend } from "../../backends/backend.ts";
import type { ShedStore } from "../state/store.ts";

/**
 * Sheds whose state file cannot be read never vanish: they are listed as `error` with the
 * reason, and `delete --force` removes whatever the backends still have of them.
 */
export function unreadableError(name: string, reason: string): ShedError {
  return new ShedError(
    "SHED_UNHEALTHY",
    `the state file of shed "${name}" is unreadable (${reason}); \`shed delete --force ${name}\` removes it and whatever its backend still has`,
  );
}

/** The API view: `error`, the reason, and the backend that still has an instance of that name. */
export async function unreadableShed(name: string, reason: string, backends: Map<BackendName, Backend>, fallback: BackendName): Promise<Shed> {
  let backend = fallback;
  for (const [b, impl] of backends) {
    if (!(await impl.probe()).ok) continue;
    const found = await impl.list().catch(() => []);
    if (found.some((f) => f.name === name)) backend = b;
  }
  const when = new Date(0).toISOString();
  return { name, backend, image: "unknown", state: "error", cpus: 0, memoryMb: 0, createdAt: when, updatedAt: when, error: unreadableError(name, reason).message };
}

/** Each reachable backend removes what it finds under the name (by label, name, instance dir); then the file goes. */
export async function purgeUnreadable(name: string, backends: Map<BackendName, Backend>, store: ShedStore, progress: Progress): Promise<void> {
  progress({ id: "shed", status: "removing what the backends have of it" });
  for (const backend of backends.values()) {
    if (!(await backend.probe()).ok) continue;
    await backend.delete({ name, spec: { name, image: "", cpus: 0, memoryMb: 0, env: {}, mounts: [] }, data: {} });
  }
  store.remove(name);
  progress({ id: "shed", status: "deleted" });
}
