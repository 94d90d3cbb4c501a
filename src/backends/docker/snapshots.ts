import { ShedError } from "../../api/errors.ts";
import type { Progress } from "../../api/schemas/shed.ts";
import { runInShed } from "../../agent/protocol/run-in-shed.ts";
import type { AgentConnection } from "../../agent/protocol/api.ts";
import type { CreateOptions, Instance, InstanceData, InstanceSpec, SnapshotCapability, } from "../backend.ts";
import { EngineError, type DockerEngine, seg } from "./engine.ts";

/** The shed a container or volume belongs to (a snapshot's belong to none). */
const LABEL_NAME = "shed.name";

/**
 * Labels on what a snapshot holds in the engine (its committed image, its volume). Containers
 * of that image (the spawns) inherit the image's labels, so they are told apart by their own.
 */
export const LABEL_SNAPSHOT = "shed.snapshot";
/** On the short-lived containers that copy a snapshot's volume: the snapshot's name. */
export const LABEL_COPY = "shed.snapshot.copy";

/** What a Docker shed's state has that its snapshot needs. */
interface SourceData {
  containerId: string;
  volume: string;
  /** The image it was created from (the engine keeps it while the container exists). */
  image?: string;
}

/** What the snapshot keeps: the committed image and the copy of the volume. */
interface DockerSnapshotData extends InstanceData {
  imageId: string;
  imageRef: string;
  volume: string;
  /** Nothing was in /workspace: a spawn's fresh volume is already the copy. */
  volumeEmpty?: boolean;
  source?: string;
}

/** What the backend lends its snapshots (backend.ts). */
export interface DockerSnapshotHost {
  engine: DockerEngine;
  serverId: string;
  labels(name: string): Record<string, string>;
  namePrefix: string;
  /** Volume and container (not started) of a new shed from `image`, its volume left empty (not filled from the image). */
  makeInstance(spec: InstanceSpec, image: string, progress: Progress): Promise<InstanceData & { containerId: string; volume: string }>;
  startReady(data: InstanceData, progress: Progress, opts: CreateOptions): Promise<void>;
  dial(data: InstanceData): Promise<AgentConnection>;
  delete(instance: Instance): Promise<void>;
}

/**
 * Snapshots on Docker, which the original had not: the stopped container's writable layer
 * committed to an image in the engine, and its /workspace volume copied to a volume of the
 * snapshot's, both labelled with the snapshot and the server. A spawn is a container of that
 * image with a copy of that volume, then its own identity (a new machine-id, new SSH host
 * keys where the image has them; the hostname is the container's).
 */
export function dockerSnapshots(host: DockerSnapshotHost): SnapshotCapability {
  const { engine } = host;
  const snapshotLabels = (name: string) => {
    const { [LABEL_NAME]: _, ...labels } = host.labels("");
    return { ...labels, [LABEL_SNAPSHOT]: name };
  };
  const volumeOf = (name: string) => `${host.namePrefix}snapshot-${name}-workspace`;
  const refOf = (name: string) => `shed-snapshot/${name}:${host.serverId.replace(/[^A-Za-z0-9_.-]/g, "").slice(0, 64) || "latest"}`;

  /** Copies one volume into another with a short-lived container of `image` (its cp, du, find and sh); returns the bytes and top-level entries copied. */
  async function copyVolume(image: string, from: string, to: string, labels: Record<string, string>, copyOf: string): Promise<{ bytes: number; entries: number }> {
    const id = await engine.createContainer(`${host.namePrefix}copy-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`, {
      Image: image,
      Entrypoint: ["sh", "-c", 'cp -a /from/. /to/ && echo "$(du -sb /to | cut -f1) $(find /to -mindepth 1 -maxdepth 1 | wc -l)"'],
      Cmd: [],
      User: "0:0",
      Labels: { ...labels, [LABEL_COPY]: copyOf },
      NetworkDisabled: true,
      HostConfig: { Binds: [`${from}:/from:ro`, `${to}:/to`] },
    });
    try {
      await engine.startContainer(id);
      const { StatusCode } = await engine.call<{ StatusCode: number }>("POST", `/containers/${seg(id)}/wait`, { timeoutMs: 3_600_000 });
      const out = (await engine.containerLogs(id, 50)).trim();
      if (StatusCode !== 0) {
        throw new ShedError("INTERNAL", `copying the /workspace volume ${from} to ${to} failed (exit ${StatusCode}; the image needs sh and cp): ${out.slice(-400)}`);
      }
      const [bytes, entries] = (out.split("\n").pop() ?? "").split(" ").map(Number);
      return { bytes: bytes || 0, entries: entries ?? 1 };
    } finally {
      await engine.removeContainer(id).catch(() => {});
    }
  }

  /**
   * The snapshot's name in the engine goes (forced: a tag in use is only untagged), then its
   * image where no container uses it. Spawned sheds' containers keep the layers they run on
   * (the engine refuses to delete those, which is what should happen).
   */
  async function removeImage(ref: string, id?: string): Promise<void> {
    for (const [name, force] of [[ref, "true"], ...(id ? [[id, "false"]] : [])] as const) {
      try {
        await engine.call("DELETE", `/images/${seg(name)}`, { query: { force } });
      } catch (err) {
        if (err instanceof EngineError && (err.httpStatus === 404 || (name === id && err.httpStatus === 409))) continue;
        throw err;
      }
    }
  }

  return {
    async capture(instance, snap, progress) {
      const src = instance.data as unknown as SourceData;
      const labels = { ...snapshotLabels(snap.name), "shed.snapshot.source": instance.name };
      const imageRef = refOf(snap.name);
      const volume = volumeOf(snap.name);
      progress({ id: "image", status: "committing the container's writable layer and copying the /workspace volume" });
      const sized = await engine.call<{ SizeRw?: number; Image?: string }>("GET", `/containers/${seg(src.containerId)}/json`, { query: { size: "true" } });
      const [repo, tag] = [imageRef.slice(0, imageRef.lastIndexOf(":")), imageRef.slice(imageRef.lastIndexOf(":") + 1)];
      // The commit and the volume copy at once (both only read the stopped container's data):
      // the copying container runs the source's own image, which the engine keeps while the source exists.
      const commit = engine.call<{ Id: string }>("POST", "/commit", {
        query: { container: src.containerId, repo, tag, pause: "false", comment: `shed snapshot ${snap.name} of ${instance.name}` },
        body: { Labels: labels },
      });
      const copy = engine.createVolume(volume, labels).then(() => copyVolume(sized.Image ?? src.image!, src.volume, volume, labels, snap.name));
      const [committed, copied] = await Promise.allSettled([commit, copy]);
      if (committed.status === "fulfilled" && copied.status === "fulfilled") {
        const data: DockerSnapshotData = { imageId: committed.value.Id, imageRef, volume, volumeEmpty: copied.value.entries === 0, source: instance.name };
        return { spawnImage: committed.value.Id, sizeBytes: (sized.SizeRw ?? 0) + copied.value.bytes, data };
      }
      await engine.removeVolume(volume).catch(() => {});
      await removeImage(imageRef, committed.status === "fulfilled" ? committed.value.Id : undefined).catch(() => {});
      throw committed.status === "rejected" ? committed.reason : (copied as PromiseRejectedResult).reason;
    },

    async spawn(spec, snap, progress, opts = {}) {
      const data = snap.data as DockerSnapshotData;
      const made = await host.makeInstance({ ...spec, image: data.imageId }, data.imageId, progress);
      try {
        // An empty /workspace needs no copy (and no copying container).
        if (!data.volumeEmpty) {
          progress({ id: "volume", status: `copying the /workspace of snapshot ${snap.name}` });
          await copyVolume(data.imageId, data.volume, made.volume, host.labels(spec.name), snap.name);
        }
        await host.startReady(made, progress, opts);
        progress({ id: "identity", status: "a new machine-id and SSH host keys" });
        await newIdentity(await host.dial(made));
        return made;
      } catch (err) {
        await host.delete({ name: spec.name, spec, data: made }).catch(() => {});
        throw err;
      }
    },

    async remove(snap) {
      const data = snap.data as Partial<DockerSnapshotData>;
      // A copy a dead server left running.
      for (const c of await engine.listContainers({ [LABEL_COPY]: snap.name, "shed.server.id": host.serverId })) await engine.removeContainer(c.Id);
      await removeImage(data.imageRef ?? refOf(snap.name), data.imageId);
      await engine.removeVolume(data.volume ?? volumeOf(snap.name));
    },

    present(snap) {
      return engine.imageExists((snap.data as DockerSnapshotData).imageId);
    },
  };
}

/**
 * A spawn's own identity, made in it before anyone uses it: a fresh /etc/machine-id, and new
 * SSH host keys of the types the snapshot had (none when the image has no sshd keys).
 */
async function newIdentity(agent: AgentConnection): Promise<void> {
  const id = crypto.randomUUID().replaceAll("-", "");
  const script = [
    "set -e",
    `printf '%s\\n' ${id} > /etc/machine-id`,
    // D-Bus's own copy, where it is a file rather than the usual link to /etc/machine-id.
    `if [ -f /var/lib/dbus/machine-id ] && [ ! -L /var/lib/dbus/machine-id ]; then printf '%s\\n' ${id} > /var/lib/dbus/machine-id; fi`,
    "for key in /etc/ssh/ssh_host_*_key; do",
    '  [ -e "$key" ] || continue',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the shell expands it, not JS
    '  type=${key#/etc/ssh/ssh_host_}; type=${type%_key}',
    '  rm -f "$key" "$key.pub"',
    '  ssh-keygen -q -t "$type" -N "" -C "root@$(hostname)" -f "$key"',
    "done",
  ].join("\n");
  const r = await runInShed(agent, { argv: ["sh", "-c", script], user: "root", login: false });
  if (r.code !== 0) throw new ShedError("INTERNAL", `giving the spawned shed its own identity failed (exit ${r.code}): ${r.stderr.trim().slice(-400)}`);
}
