import * as v from "valibot";
import { SHED_API } from "../../api/endpoints/sheds.ts";
import type { CreateShedRequest, ProgressEvent } from "../../api/schemas/shed.ts";
import { anyBackend, confirmField, defineTool, described, optionalField, type ToolDef, type ToolEnv } from "../tool.ts";

/** Sheds themselves: list, info, create, start, stop, delete, and the server. Fields from the catalog's schemas. */

const CREATE = SHED_API.createShed.request.entries;
const STOP = SHED_API.stopShed.request.entries;
export const NAME = described(SHED_API.getShed.params.name, "The shed's name (lowercase letters, digits and hyphens, as list_sheds shows it)");
const named = () => v.object({ name: NAME });
/** A progress event in words: "image: pulling 3/10". */
export const progressLine = (e: ProgressEvent) => `${e.id}: ${e.status}${e.total ? ` ${e.current ?? 0}/${e.total}` : ""}`;

/** The create arguments this server can honour: its backends by name, host directories only where a backend mounts them. */
function createInput(env: ToolEnv) {
  const backends = env.info?.backends.filter((b) => b.available).map((b) => b.name) ?? [];
  const hostDirs = {
    localDir: optionalField(CREATE.localDir.wrapped, "A directory on the server's host to be the shed's /workspace (not with repo); the server's mount_roots limit which"),
    addDirs: optionalField(CREATE.addDirs.wrapped, "More host directories to mount: SRC[:DST][:ro] each"),
  };
  const localDirs: Partial<typeof hostDirs> = anyBackend(env, "localDir") ? hostDirs : {};
  const snapshotField = {
    fromSnapshot: optionalField(CREATE.fromSnapshot.wrapped, "Start from this snapshot's files (list_snapshots has them; not with image or repo): a copy of the shed it was taken of"),
  };
  const fromSnapshot: Partial<typeof snapshotField> = anyBackend(env, "snapshots") ? snapshotField : {};
  const input = v.object({
    name: described(CREATE.name, "Name of the new shed (1-63 lowercase letters, digits, hyphens; unique on the server)"),
    image: optionalField(CREATE.image.wrapped, "Image alias (base, default, ...) or reference; default: the server's default image"),
    repo: optionalField(CREATE.repo.wrapped, "A git repository to clone into /workspace: owner/repo (GitHub) or a git URL"),
    ...localDirs,
    backend: env.info
      ? optionalField(v.picklist(backends.length ? backends : [env.info.defaultBackend]), `Where the shed runs (default ${env.info.defaultBackend})`)
      : optionalField(CREATE.backend.wrapped, "Where the shed runs (default: the server's default backend)"),
    ...fromSnapshot,
    cpus: optionalField(CREATE.cpus.wrapped, "CPUs for the shed, e.g. 2 or 0.5"),
    memoryMb: optionalField(CREATE.memoryMb.wrapped, "Memory in MB, e.g. 4096"),
    env: optionalField(CREATE.env.wrapped, "Environment variables every command in the shed gets"),
    noProvision: optionalField(CREATE.noProvision.wrapped, "Skip the repository's .shed/provision.yaml hooks"),
    timeoutSeconds: optionalField(CREATE.timeoutSeconds.wrapped, "How long the whole create may take (default 600)"),
  });
  // The fields left out (or narrowed) here are the request's own, so what passes is a request.
  return input as unknown as v.GenericSchema<unknown, CreateShedRequest>;
}

export const SHED_TOOLS: ToolDef[] = [
  defineTool({
    name: "server_info",
    title: "Server info",
    description: "The shed-server this tool talks to: its name, version, default backend and every backend with what it can do (features).",
    input: () => v.object({}),
    annotations: { readOnlyHint: true },
    run: ({ client }) => client.serverInfo(),
  }),
  defineTool({
    name: "list_sheds",
    title: "List sheds",
    description: "All sheds on the server with their state (running, stopped, creating, error), backend, image, CPUs and memory.",
    input: () => v.object({}),
    annotations: { readOnlyHint: true },
    run: async ({ client }) => ({ sheds: await client.list() }),
  }),
  defineTool({
    name: "shed_info",
    title: "Shed info",
    description: "One shed: state, backend, image, limits, mounts, environment variable names, and the warnings of its create (a failed repo clone or hook says why here).",
    input: named,
    annotations: { readOnlyHint: true },
    run: ({ client }, { name }) => client.get(name),
  }),
  defineTool({
    name: "create_shed",
    title: "Create a shed",
    description:
      "Creates a persistent development environment and waits until it runs (minutes for a VM or a first image pull; progress is reported). " +
      "Returns the shed; `warnings` lists provisioning problems (the shed is usable anyway). Then use exec to run commands in it.",
    input: createInput,
    annotations: { openWorldHint: true },
    run: ({ client, signal, progress }, req) => client.create(req, { signal, onProgress: (e) => progress(progressLine(e)) }),
  }),
  defineTool({
    name: "start_shed",
    title: "Start a shed",
    description: "Starts a stopped shed and waits until its agent answers.",
    input: named,
    annotations: { idempotentHint: true },
    run: ({ client, signal, progress }, { name }) => client.start(name, { signal, onProgress: (e) => progress(progressLine(e)) }),
  }),
  defineTool({
    name: "stop_shed",
    title: "Stop a shed",
    description: "Stops a running shed (its files are kept; start_shed brings it back). Processes get timeoutSeconds to exit before they are killed.",
    input: () => v.object({ name: NAME, timeoutSeconds: optionalField(STOP.timeoutSeconds.wrapped, "Seconds to wait for a clean shutdown (default 60)") }),
    annotations: { destructiveHint: true, idempotentHint: true },
    run: ({ client, signal }, { name, timeoutSeconds }) => client.stop(name, { timeoutSeconds, signal }),
  }),
  defineTool({
    name: "delete_shed",
    title: "Delete a shed",
    description: "Deletes a shed and everything in it, for good. Needs confirm: true; a running shed also needs force: true.",
    input: () =>
      v.object({
        name: NAME,
        confirm: confirmField("deleting a shed removes its files for good"),
        force: optionalField(v.boolean(), "Delete even if it is running"),
      }),
    annotations: { destructiveHint: true },
    run: async ({ client, signal, progress }, { name, force }) => {
      await client.delete(name, { force, signal, onProgress: (e) => progress(progressLine(e)) });
      return { name, deleted: true };
    },
  }),
  defineTool({
    name: "shed_logs",
    title: "Shed console output",
    description: "What the shed's VM console or container printed (the last tailBytes, default 256 KiB): boot problems show here.",
    input: () =>
      v.object({ name: NAME, tailBytes: optionalField(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(16 * 1024 * 1024)), "How many bytes of the end") }),
    annotations: { readOnlyHint: true },
    run: async ({ client }, { name, tailBytes }) => ({ name, text: await client.logs(name, { tailBytes }) }),
  }),
];
